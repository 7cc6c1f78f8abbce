"""python manage.py import_beneficiaries FILE --area CODE [--dry-run] [--user USERNAME]

Checks the whole file, prints a JSON summary (rows, created, updated, unchanged, errors with
row, column and message) and, unless --dry-run, writes the valid rows in one transaction.
Exits 1 when any row has errors (the valid rows are still written unless --dry-run), 2 when
the file cannot be read at all."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.accounts.models import User
from ansinh.areas.models import Area, Level
from ansinh.registry.importing import FileError, apply_plan, check_file


class Command(BaseCommand):
    help = "Import beneficiaries (and representatives) from an XLSX or CSV file into one commune."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--area", required=True, help="official code of the commune")
        parser.add_argument(
            "--tree",
            choices=["legacy", "current"],
            help="which area tree the code belongs to (needed when both trees use the code: commune codes "
            "were reused after 2025-07-01)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument("--user", help="username recorded as the actor in the audit log")

    def handle(self, file, area, dry_run, user, tree=None, **options):
        communes = Area.objects.filter(code=area, level=Level.COMMUNE)
        if tree:
            communes = communes.filter(tree=tree)
        if not communes:
            raise CommandError(_("No commune with code %(code)s.") % {"code": area})
        if len(communes) > 1:
            raise CommandError(
                _("Code %(code)s is used in both area trees; add --tree legacy or --tree current.") % {"code": area}
            )
        commune = communes[0]
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user named %(username)s.") % {"username": user})
        try:
            plan = check_file(file, commune=commune)
        except (FileError, OSError) as exc:
            self.stdout.write(
                json.dumps(
                    {
                        "rows": 0,
                        "created": 0,
                        "updated": 0,
                        "unchanged": 0,
                        "errors": [{"row": 0, "column": "", "message": str(exc)}],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            sys.exit(2)
        summary = plan.summary()
        result = {
            "rows": plan.rows,
            "created": summary["created"],
            "updated": summary["updated"],
            "unchanged": summary["unchanged"],
            "dry_run": dry_run,
        }
        if not dry_run:
            result.update(apply_plan(actor=actor, plan=plan, commune=commune, note=f"CLI import {file}"))
        result["errors"] = summary["errors"]
        result["warnings"] = summary["warnings"]
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        if summary["errors"]:
            sys.exit(1)
