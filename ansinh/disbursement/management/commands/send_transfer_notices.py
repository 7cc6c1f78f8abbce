"""python manage.py send_transfer_notices

Queues the payees' notices of every transfer credited or rejected and not notified yet (the
sweep behind the task each status import enqueues; harmless to re-run). Prints a JSON summary."""

import json

from django.core.management.base import BaseCommand

from ansinh.disbursement.notices import notify_pending


class Command(BaseCommand):
    help = "Queue the SMS notices of credited or rejected transfers not notified yet."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(notify_pending()))
