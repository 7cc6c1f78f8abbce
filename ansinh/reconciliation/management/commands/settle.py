"""python manage.py settle --cycle ID [--purpose regular|funeral_emergency] [--submit | --accept]

Prints the provider's statement of a cycle (JSON: the lists' totals, the amount returned, the fee
and what still blocks a submission), computed from the records. `--submit` submits it as the
provider would, `--accept` accepts the submitted statement as the office would (fee posted, ledger
closed, cycle settled). A system run (no user): audited without an actor. Re-running is harmless."""

import json

from django.core.management.base import BaseCommand, CommandError

from ansinh.core.errors import DomainError
from ansinh.payroll.models import ContractPurpose, PaymentCycle
from ansinh.reconciliation import settlement


class Command(BaseCommand):
    help = "Show, submit or accept the provider's settlement of a payment cycle."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, required=True, help="the payment cycle's id")
        parser.add_argument("--purpose", default=ContractPurpose.REGULAR, choices=ContractPurpose.values)
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--submit", action="store_true", help="submit the statement (provider)")
        group.add_argument("--accept", action="store_true", help="accept the submitted statement (office)")

    def handle(self, *args, cycle, purpose, submit=False, accept=False, **options):
        obj = PaymentCycle.objects.filter(pk=cycle).select_related("area", "programme", "approving_unit").first()
        if obj is None:
            raise CommandError(f"No payment cycle {cycle}.")
        try:
            if submit:
                settlement.submit(actor=None, cycle=obj, purpose=purpose)
            elif accept:
                found = settlement.settlement_of(obj, purpose)
                if found is None:
                    raise CommandError("The provider has not submitted this settlement.")
                settlement.accept(actor=None, settlement=found)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        obj.refresh_from_db()
        st = settlement.statement(obj, purpose)
        found = settlement.settlement_of(obj, purpose)
        out = {
            "cycle": obj.pk,
            "cycle_state": obj.state,
            "purpose": purpose,
            "settlement_state": found.state if found else None,
            "lists": st.totals,
            "returned": st.returned,
            "served": st.served,
            "amount_paid": st.amount_paid,
            "fee": st.fee,
            "blockers": st.blockers,
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False))
