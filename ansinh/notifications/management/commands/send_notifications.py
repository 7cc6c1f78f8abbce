import json

from django.core.management.base import BaseCommand

from ansinh.notifications.services import send_due


class Command(BaseCommand):
    help = "Send the queued notifications that are due (within the daily sending window); prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, limit: int, **options):
        self.stdout.write(json.dumps(send_due(limit=limit).as_dict()))
