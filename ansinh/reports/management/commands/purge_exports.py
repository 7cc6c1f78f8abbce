"""Delete the monitoring dashboard's export files older than ANSINH_EXPORT_RETENTION_DAYS.

Run it daily (cron or a systemd timer: docs/retention.md). Idempotent: a second run finds
nothing left to delete."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.reports.retention import purge_exports


class Command(BaseCommand):
    help = (
        "Delete the monitoring dashboard's export files (personal data) older than "
        "ANSINH_EXPORT_RETENTION_DAYS days; the export jobs stay. Touches monitoring exports only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"retention in days (default {settings.ANSINH_EXPORT_RETENTION_DAYS}, "
            "from ANSINH_EXPORT_RETENTION_DAYS)",
        )

    def handle(self, *args, dry_run, days, **options):
        try:
            result = purge_exports(actor=None, days=days, dry_run=dry_run)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        values = {"purged": len(result.purged), "busy": len(result.skipped_busy), "cutoff": result.cutoff[:10]}
        if dry_run:
            message = _(
                "Dry run: %(purged)d export file(s) requested before %(cutoff)s would be deleted; "
                "%(busy)d in progress skipped."
            )
        else:
            message = _("%(purged)d export file(s) requested before %(cutoff)s deleted; %(busy)d in progress skipped.")
        self.stdout.write(message % values)
