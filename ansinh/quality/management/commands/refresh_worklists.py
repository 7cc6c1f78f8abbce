"""python manage.py refresh_worklists [--area CODE] [--tree legacy|current]

Recomputes the data-quality worklists (docs/worklists.md) of an area (a province or a commune,
by official code) or of everything, and prints a JSON summary: the items opened and closed per
kind and the open items per kind afterwards. Safe to re-run: a second run changes nothing."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.areas.models import Area
from ansinh.quality.services import refresh


class Command(BaseCommand):
    help = "Refresh the data-quality worklists of an area (or everything); prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--area", help="official code of a province or commune (default: everything)")
        parser.add_argument(
            "--tree",
            choices=["legacy", "current"],
            help="which area tree the code belongs to (needed when both trees use the code)",
        )

    def handle(self, area=None, tree=None, **options):
        target = None
        if area:
            areas = Area.objects.filter(code=area)
            if tree:
                areas = areas.filter(tree=tree)
            if not areas:
                raise CommandError(_("No area with code %(code)s.") % {"code": area})
            if len(areas) > 1:
                raise CommandError(
                    _("Code %(code)s is used in both area trees; add --tree legacy or --tree current.") % {"code": area}
                )
            target = areas[0]
        self.stdout.write(json.dumps(refresh(area=target), ensure_ascii=False))
