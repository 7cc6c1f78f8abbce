"""Delete the public application pages' rate-limit records older than two days (the longest
window counted is a day). Idempotent; safe to run from cron at any time."""

from django.core.management.base import BaseCommand

from ansinh.applications.throttle import purge


class Command(BaseCommand):
    help = "Delete old rate-limit records of the public application pages."

    def handle(self, *args, **options):
        n = purge()
        self.stdout.write(f"{n} old rows deleted")
