"""python manage.py import_statement FILE --provider ID_OR_NAME [--format camt.053|xlsx]

Imports a bank statement of the provider's funded account (an ISO 20022 camt.053, or the
provider's XLSX statement, see docs/reconciliation.md) and prints a JSON summary: the entries per
kind and outcome (matched, amount differs, unknown reference, booked twice), the unknown
references, and the credited transfers missing from the statements. Run as the system (no user):
the statement must still be of a funded account of one of the provider's contracts. Importing
the same file twice changes nothing ("already_imported": true)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ansinh.accounts.models import OrgKind, OrgUnit
from ansinh.core.errors import DomainError
from ansinh.reconciliation.models import StatementFormat, StatementImport, StatementState
from ansinh.reconciliation.statements import checksum, import_statement


def provider_named(value: str) -> OrgUnit:
    providers = OrgUnit.objects.filter(kind=OrgKind.PROVIDER)
    found = providers.filter(pk=int(value)).first() if value.isdigit() else None
    if found is None:
        matches = list(providers.filter(name__iexact=value)[:2]) or list(providers.filter(short_name__iexact=value)[:2])
        if len(matches) != 1:
            raise CommandError(f"no single payment provider named {value!r} (give its id)")
        found = matches[0]
    return found


class Command(BaseCommand):
    help = "Import a bank statement (camt.053 or the provider's XLSX); prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--provider", required=True, help="the payment provider's id or name")
        parser.add_argument("--format", default=None, choices=StatementFormat.values, dest="source")

    def handle(self, *args, file, provider, source, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such file: {file}")
        source = source or (StatementFormat.XLSX if path.suffix.lower() == ".xlsx" else StatementFormat.CAMT053)
        unit = provider_named(provider)
        already = StatementImport.objects.filter(checksum=checksum(path), state=StatementState.APPLIED).exists()
        try:
            job = import_statement(actor=None, content=path, provider=unit, source=source, file_name=path.name)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        out = {
            "statement": job.pk,
            "state": job.state,
            "already_imported": already,
            "entries": job.entries_count,
            "credits": job.credits_total,
            "debits": job.debits_total,
            **(job.summary or {}),
        }
        if job.refused_reason:
            out["refused_reason"] = job.refused_reason
        self.stdout.write(json.dumps(out, ensure_ascii=False, default=str))
        if job.state != StatementState.APPLIED:
            raise CommandError(job.refused_reason)
