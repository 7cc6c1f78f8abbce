"""Delete the lookup's rate counters whose window is over and its codes a day past their time
(the lookups also do it now and then). Idempotent; safe to run from cron at any time."""

from django.core.management.base import BaseCommand

from ansinh.lookup.services import purge_expired


class Command(BaseCommand):
    help = "Delete expired rate-limit counters and one-time codes of the public status lookup."

    def handle(self, *args, **options):
        n = purge_expired()
        self.stdout.write(f"{n} expired rows deleted")
