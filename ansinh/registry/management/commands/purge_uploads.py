"""Delete uploaded registry import files older than ANSINH_IMPORT_RETENTION_DAYS.

Run it daily (cron or a systemd timer: docs/retention.md). Idempotent: a second run finds
nothing left to delete."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.registry.retention import purge_uploads


class Command(BaseCommand):
    help = (
        "Delete uploaded import files (personal data) older than ANSINH_IMPORT_RETENTION_DAYS days; "
        "the import jobs and their summaries stay. Touches registry import uploads only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"retention in days (default {settings.ANSINH_IMPORT_RETENTION_DAYS}, "
            "from ANSINH_IMPORT_RETENTION_DAYS)",
        )

    def handle(self, *args, dry_run, days, **options):
        try:
            result = purge_uploads(actor=None, days=days, dry_run=dry_run)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        values = {
            "purged": len(result.purged),
            "cancelled": len(result.cancelled),
            "busy": len(result.skipped_busy),
            "cutoff": result.cutoff[:10],
        }
        if dry_run:
            message = _(
                "Dry run: %(purged)d import file(s) uploaded before %(cutoff)s would be deleted "
                "(%(cancelled)d import(s) awaiting confirmation would be cancelled); %(busy)d in progress skipped."
            )
        else:
            message = _(
                "%(purged)d import file(s) uploaded before %(cutoff)s deleted "
                "(%(cancelled)d import(s) awaiting confirmation cancelled); %(busy)d in progress skipped."
            )
        self.stdout.write(message % values)
