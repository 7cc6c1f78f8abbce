"""python manage.py report bieu01|bieu02|bieu03 --area CODE [--tree legacy|current]
--from YYYY-MM --to YYYY-MM [--as-of YYYY-MM-DD] --format json|xlsx [--out FILE]

Writes the statutory table as JSON (to standard output without --out) or XLSX (--out needed).
Without --tree the code must name one area of one tree. Logged as an export (actor: --user, or
the system)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from ansinh.areas.models import Area, Level
from ansinh.reports import services, xlsx
from ansinh.reports.statutory import as_json, build, parse_as_of
from ansinh.reports.tables import BIEUS, ReportError, make_period, parse_month


class Command(BaseCommand):
    help = "Write a statutory report (Biểu 01/02/03) as JSON or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("bieu", choices=BIEUS)
        parser.add_argument("--area", required=True, help="official code of a province, district or commune")
        parser.add_argument("--tree", choices=["legacy", "current"])
        parser.add_argument("--from", dest="first", required=True, help="YYYY-MM")
        parser.add_argument("--to", dest="last", required=True, help="YYYY-MM")
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today, at most the period's end)")
        parser.add_argument("--format", dest="fmt", choices=["json", "xlsx"], default="json")
        parser.add_argument("--out", help="file to write (standard output for JSON without it)")
        parser.add_argument("--user", help="username recorded as the exporter")

    def handle(self, *args, bieu, area, tree, first, last, as_of, fmt, out, user, **options):
        areas = Area.objects.filter(code=area).exclude(level=Level.VILLAGE)
        if tree:
            areas = areas.filter(tree=tree)
        found = list(areas[:2])
        if not found:
            raise CommandError(f"Không tìm thấy đơn vị hành chính mã {area}.")
        if len(found) > 1:
            raise CommandError(f"Mã {area} có ở cả hai cây đơn vị hành chính: thêm --tree legacy hoặc --tree current.")
        try:
            period = make_period(parse_month(first), parse_month(last), parse_as_of(as_of))
        except ReportError as exc:
            raise CommandError(str(exc)) from exc
        table = build(bieu, found[0], period)
        actor = None
        if user:
            from ansinh.openings.management.commands._common import actor_of

            actor = actor_of(user)
        if fmt == "xlsx":
            if not out:
                raise CommandError("Cần --out FILE cho định dạng xlsx.")
            with open(out, "wb") as fh:
                fh.write(xlsx.workbook_bytes(table))
        else:
            text = json.dumps(as_json(table), ensure_ascii=False, indent=1)
            if out:
                with open(out, "w", encoding="utf-8") as fh:
                    fh.write(text + "\n")
            else:
                self.stdout.write(text)
        services.record_export(actor=actor, table=table, fmt=fmt)
