import json

from django.core.management.base import BaseCommand

from ansinh.notifications.services import poll_delivery


class Command(BaseCommand):
    help = "Ask the SMS gateway about the messages sent and not yet delivered; prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, limit: int, **options):
        self.stdout.write(json.dumps(poll_delivery(limit=limit)))
