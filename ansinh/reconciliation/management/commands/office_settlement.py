"""python manage.py office_settlement --unit CODE --month YYYY-MM [--out FILE] [--sent]
python manage.py office_settlement --unit CODE --year YYYY [--quarter N] [--out FILE]

The office's settlement file for the finance office (XLSX): an approving unit (the code of its
seat area, e.g. 884, or its number) and a month, one row per programme; or its quarterly or
year-end summary. Prints the figures as JSON. `--sent` records each of the month's settled
cycles as sent (the cycle is closed); re-running is harmless."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ansinh.core.errors import DomainError
from ansinh.payroll.management.commands.open_cycles import parse_period
from ansinh.payroll.models import CycleState
from ansinh.reconciliation import office_settlement as office


class Command(BaseCommand):
    help = "Write the office's settlement file (or summary) for the finance office."

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="code of the approving unit's seat area, or its number")
        parser.add_argument("--month", help="YYYY-MM")
        parser.add_argument("--year", type=int, help="a year (summary)")
        parser.add_argument("--quarter", type=int, choices=(1, 2, 3, 4), help="a quarter of --year")
        parser.add_argument("--out", help="the XLSX file to write")
        parser.add_argument("--sent", action="store_true", help="record the month's settled cycles as sent")

    def handle(self, *args, unit, month=None, year=None, quarter=None, out=None, sent=False, **options):
        try:
            org = office.find_unit(unit)
            if month:
                day = parse_period(month)
                cycles = list(office.unit_cycles(org, [day]))
                if sent:
                    for c in cycles:
                        if c.state == CycleState.SETTLED:
                            office.record_sent(actor=None, cycle=c)
                    cycles = list(office.unit_cycles(org, [day]))
                data = office.month_xlsx(org, day)
                result = [
                    {"cycle": c.pk, "programme": c.programme.code, "state": c.state, **office.cycle_figures(c)}
                    for c in cycles
                ]
            elif year:
                data = office.summary_xlsx(org, year, quarter)
                result = [
                    {"programme": p["programme"], "months": len(p["months"]), **p["total"]}
                    for p in office.summary(org, year, quarter)
                ]
            else:
                raise CommandError("Give --month YYYY-MM, or --year YYYY [--quarter N].")
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if out:
            Path(out).write_bytes(data)
        self.stdout.write(json.dumps({"unit": org.name, "rows": result}, ensure_ascii=False))
