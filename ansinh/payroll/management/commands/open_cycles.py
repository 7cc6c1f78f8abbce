"""python manage.py open_cycles --period YYYY-MM [--area CODE]

Opens the payment cycles of a month (the month the allowance is for) for every approving unit and
programme, with their deadlines; idempotent. Prints a JSON summary."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from ansinh.areas.models import Area
from ansinh.payroll.services import open_cycles


def parse_period(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise CommandError(_("The period is a month written YYYY-MM, e.g. 2026-01.")) from None


def area_by_code(code: str, month: date) -> Area:
    """The area with that official code in force in the month (both trees may use a code)."""
    found = list(
        Area.objects.filter(code=code)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=month))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=month))
    )
    if len(found) != 1:
        raise CommandError(_("No single area with code %(code)s in force in that month.") % {"code": code})
    return found[0]


class Command(BaseCommand):
    help = "Open the payment cycles of a month with their deadlines (idempotent); prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM: the month the allowance is for")
        parser.add_argument("--area", help="official code of a province, district or commune")

    def handle(self, *args, period: str, area: str | None = None, **options):
        month = parse_period(period)
        where = area_by_code(area, month) if area else None
        self.stdout.write(json.dumps(open_cycles(actor=None, month=month, area=where), ensure_ascii=False))
