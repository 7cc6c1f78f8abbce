"""Load the official administrative-unit trees. Idempotent: a re-run changes nothing.

python manage.py load_areas --tree current
python manage.py load_areas --tree legacy --province 89
python manage.py load_areas --tree legacy --province 89,91 --province 87
python manage.py load_areas --tree legacy --province all
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.areas import services
from ansinh.areas.models import Level, Tree
from ansinh.core.text import format_number


class Command(BaseCommand):
    help = (
        "Load the administrative-unit tree in force from 2025-07-01 (--tree current) or pre-2025 "
        "provinces with their districts and communes (--tree legacy --province CODE)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tree", required=True, choices=[Tree.CURRENT.value, Tree.LEGACY.value])
        parser.add_argument(
            "--province",
            action="append",
            default=[],
            help="legacy tree only: province code (repeatable or comma-separated), or 'all'",
        )

    def handle(self, *args, tree, province, **options):
        codes = [c.strip() for value in province for c in value.split(",") if c.strip()]
        started = time.perf_counter()
        try:
            if tree == Tree.CURRENT:
                if codes:
                    raise CommandError(_("--province applies to the legacy tree only."))
                counts = services.load_current_tree(actor=None)
            else:
                if not codes:
                    raise CommandError(_("Give --province CODE (or --province all) for the legacy tree."))
                if any(c.lower() == "all" for c in codes):
                    codes = services.legacy_province_codes()
                counts = services.load_legacy_provinces(actor=None, codes=codes)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        elapsed = time.perf_counter() - started

        parts = [
            _("%(level)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged")
            % {"level": Level(level).label, **{k: format_number(v) for k, v in level_counts.items()}}
            for level, level_counts in counts.items()
        ]
        label = _("the tree in force from 2025-07-01") if tree == Tree.CURRENT else _("the pre-2025 tree")
        self.stdout.write(
            _("Loaded %(tree)s in %(seconds)s s. %(counts)s.")
            % {"tree": label, "seconds": format_number(elapsed, 1), "counts": "; ".join(parts)}
        )
