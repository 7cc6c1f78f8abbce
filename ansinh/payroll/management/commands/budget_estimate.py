"""python manage.py budget_estimate --year YYYY --area CODE [--format json|xlsx] [--out FILE] [--as-of YYYY-MM]

The budget estimate (dự toán) of a year for an area (a province, a district or a commune): the
beneficiaries receiving now projected over the year with the changes already known, funeral
support from the province's mortality rate, and fees. JSON on stdout (or --out), or an XLSX file."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.payroll import budget

from .open_cycles import area_by_code, parse_period


class Command(BaseCommand):
    help = "Budget estimate of a year for an area (JSON or XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="the year estimated, e.g. 2027")
        parser.add_argument("--area", required=True, help="official code of a province, district or commune")
        parser.add_argument("--format", choices=["json", "xlsx"], default="json")
        parser.add_argument("--out", help="file to write (required for xlsx)")
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM: the month whose beneficiaries are projected")

    def handle(self, *args, year: int, area: str, format: str, out=None, as_of=None, **options):
        today = parse_period(as_of) if as_of else timezone.localdate()
        if not 2000 <= year <= 2100:
            raise CommandError(_("Enter a year from 2000 to 2100."))
        where = area_by_code(area, today.replace(day=1))
        estimate = budget.budget_estimate(area=where, year=year, today=today)
        if format == "xlsx":
            if not out:
                raise CommandError(_("Give the file to write with --out."))
            with open(out, "wb") as fh:
                budget.budget_xlsx(estimate, out=fh)
            self.stdout.write(out)
            return
        text = json.dumps(estimate, ensure_ascii=False, indent=2)
        if out:
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.flush()
            self.stdout.write(text)
