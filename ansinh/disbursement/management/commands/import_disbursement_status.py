"""python manage.py import_disbursement_status FILE [--format pain.002|xlsx] [--batch MESSAGE_ID]

Imports a status file (a pain.002 from the bank, or the provider's XLSX results list with
--batch) and prints a JSON summary: counts per outcome and per status, amounts, unknown
end-to-end ids, mismatched amounts. Importing the same file twice changes nothing (the summary
of the first import is printed again, with "already_imported": true)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ansinh.core.errors import DomainError
from ansinh.disbursement.formats import FormatError
from ansinh.disbursement.models import ImportSource, ProviderBatch, StatusImport
from ansinh.disbursement.statuses import checksum, import_status


class Command(BaseCommand):
    help = "Import a pain.002 status report or the provider's XLSX results; prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", default=None, choices=ImportSource.values, dest="source")
        parser.add_argument("--batch", default=None, help="the batch's message id (XLSX results)")

    def handle(self, *args, file, source, batch, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such file: {file}")
        source = source or (ImportSource.XLSX if path.suffix.lower() == ".xlsx" else ImportSource.PAIN002)
        target = None
        if batch:
            target = ProviderBatch.objects.filter(message_id=batch).first()
            if target is None:
                raise CommandError(f"no batch {batch}")
        already = StatusImport.objects.filter(checksum=checksum(path)).exists()
        try:
            job = import_status(actor=None, content=path, source=source, file_name=path.name, batch=target)
        except (DomainError, FormatError) as exc:
            raise CommandError(str(exc)) from exc
        out = {
            "job": job.pk,
            "state": job.state,
            "batch": job.original_message_id,
            "already_imported": already,
            **job.summary,
        }
        if job.refused_reason:
            out["refused_reason"] = job.refused_reason
        self.stdout.write(json.dumps(out, ensure_ascii=False))
