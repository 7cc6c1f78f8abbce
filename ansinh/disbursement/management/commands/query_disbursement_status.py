"""python manage.py query_disbursement_status [--batch MESSAGE_ID]

Asks the bank for the status of the batches that still wait for answers (the scheduled task;
never a resend), or of one batch. Prints a JSON summary."""

import json

from django.core.management.base import BaseCommand, CommandError

from ansinh.disbursement.models import ProviderBatch
from ansinh.disbursement.sending import query_status, query_waiting


class Command(BaseCommand):
    help = "Query the bank for the status of waiting transfer batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch", default=None)

    def handle(self, *args, batch, **options):
        if batch:
            target = ProviderBatch.objects.filter(message_id=batch).first()
            if target is None:
                raise CommandError(f"no batch {batch}")
            result = query_status(actor=None, batch=target)
            out = {"batch": batch, "imported": result.job is not None, "message": str(result.message)}
        else:
            out = query_waiting()
        self.stdout.write(json.dumps(out, ensure_ascii=False))
