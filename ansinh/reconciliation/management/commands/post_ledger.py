"""Post, for cycles paid before the ledger existed, the entries their operational state implies
and the ledger lacks (advances, payouts, failed transfers, cash returned). Idempotent."""

from django.core.management.base import BaseCommand, CommandError

from ansinh.payroll.models import PaymentCycle
from ansinh.reconciliation import ledger


class Command(BaseCommand):
    help = "Post the ledger entries of one cycle or of all cycles (catch-up, idempotent)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--cycle", type=int, help="the cycle's id")
        group.add_argument("--all", action="store_true", help="every cycle")

    def handle(self, *args, **options):
        if options["cycle"]:
            cycles = PaymentCycle.objects.filter(pk=options["cycle"])
            if not cycles.exists():
                raise CommandError(f"No cycle {options['cycle']}.")
        else:
            cycles = PaymentCycle.objects.all()
        posted = 0
        for cycle in cycles.order_by("month", "pk").iterator():
            done = ledger.post_cycle(actor=None, cycle=cycle)
            n = sum(done.values())
            posted += n
            if n:
                self.stdout.write(f"cycle {cycle.pk} ({cycle.month:%m/%Y}): {n} entries {done}")
        self.stdout.write(f"posted {posted} entries")
