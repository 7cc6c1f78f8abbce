"""Compute again the aggregate tables of the statutory reports and the dashboard that database
triggers marked stale (ansinh.reports.facts). Run it every few minutes (cron or a systemd timer:
docs/statutory-reports.md): the readers refresh what is left before reading, so a missed run
costs the next reader time, never a wrong figure. `--rebuild` computes every fact from scratch
(after a bulk load that bypassed the triggers). Idempotent."""

import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ansinh.reports import facts


class Command(BaseCommand):
    help = "Compute again the reports' aggregate tables marked stale (--rebuild: all of them)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="compute every fact from scratch")

    def handle(self, *args, rebuild, **options):
        started = time.monotonic()
        cleared = facts.rebuild() if rebuild else facts.refresh()
        self.stdout.write(
            _("Aggregate tables: %(marks)d mark(s) computed again in %(seconds).1f s.")
            % {"marks": cleared, "seconds": time.monotonic() - started}
        )
