"""python manage.py sandbox_statement --contract ID --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]
[--seed SEED] [--returns-per-mille N]

Writes the sandbox bank's camt.053 statement of a contract's funded account for the range (what
the sandbox bank credited and returned, and the treasury's advances), valid against the official
schema and the same bytes for the same seed and range. For the demo and for trying the import."""

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from ansinh.disbursement.sandbox import DEFAULT_SEED
from ansinh.payroll.models import ProviderContract
from ansinh.reconciliation import sandbox


class Command(BaseCommand):
    help = "Write the sandbox bank's camt.053 statement of a contract's funded account."

    def add_arguments(self, parser):
        parser.add_argument("--contract", type=int, required=True)
        parser.add_argument("--from", dest="start", required=True)
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument("--out", default="-")
        parser.add_argument("--seed", default=DEFAULT_SEED)
        parser.add_argument("--returns-per-mille", type=int, default=5, dest="returns")

    def handle(self, *args, contract, start, end, out, seed, returns, **options):
        found = ProviderContract.objects.filter(pk=contract).first()
        if found is None or not found.provider_account_number:
            raise CommandError(f"no contract {contract} with a funded account")
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        options_ = sandbox.Options(seed=seed, returns_per_mille=returns)
        if out == "-":
            sandbox.write_statement(sys.stdout.buffer, contract=found, start=first, end=last, options=options_)
        else:
            with open(out, "wb") as handle:
                figures = sandbox.write_statement(handle, contract=found, start=first, end=last, options=options_)
            self.stderr.write(f"{out}: {figures['entries']} entries, closing balance {figures['closing']}")
