"""python manage.py reconcile --cycle ID

Runs the reconciliation checks of a payment cycle (the payroll, the provider's results, the cash
records and the bank statements side by side) as the system, and prints a JSON summary: per kind
the subjects found, the exceptions opened and those closed because their case is gone, and the
open exceptions of the cycle per kind. Running it again opens nothing new."""

import json

from django.core.management.base import BaseCommand, CommandError

from ansinh.payroll.models import PaymentCycle
from ansinh.reconciliation import checks
from ansinh.reconciliation.models import ReconException


class Command(BaseCommand):
    help = "Run the reconciliation checks of a cycle; prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, required=True, help="the payment cycle's id")

    def handle(self, *args, cycle, **options):
        found = PaymentCycle.objects.filter(pk=cycle).first()
        if found is None:
            raise CommandError(f"no payment cycle {cycle}")
        result = checks.run_checks(actor=None, cycle=found)
        table = checks.counts(ReconException.objects.filter(cycle=found))
        result["open"] = {kind: states.get("open", 0) for kind, states in table.items() if states.get("open")}
        self.stdout.write(json.dumps({"cycle": found.pk, **result}, ensure_ascii=False))
