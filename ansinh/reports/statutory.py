"""The statutory reports' entry points, for the web, the API and the CLI:

    table = build("bieu02", area, period)        # Table (ansinh.reports.tables)
    table = report("bieu02", code="884", tree="legacy", first="2023-07", last="2023-09",
                   as_of="2023-09-10")
    data = as_json(table)                        # the API's and the CLI's JSON

and `bieu01(area, period)`, `bieu02(...)`, `bieu03(...)` directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from ansinh.areas.models import Area

from .bieu01 import bieu01
from .bieu02 import bieu02
from .bieu03 import bieu03
from .tables import BIEUS, Period, ReportError, Row, Table, find_area, make_period, parse_month

BUILDERS: dict[str, Callable[[Area, Period], Table]] = {"bieu01": bieu01, "bieu02": bieu02, "bieu03": bieu03}
assert tuple(BUILDERS) == BIEUS


def build(bieu: str, area: Area, period: Period) -> Table:
    if bieu not in BUILDERS:
        raise ReportError("Không có biểu này.")
    return BUILDERS[bieu](area, period)


def parse_as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ReportError("Ngày báo cáo không hợp lệ (định dạng YYYY-MM-DD).") from exc


def report(bieu: str, *, code: str, tree: str, first: str, last: str, as_of: str | None = None) -> Table:
    area = find_area(code, tree)
    return build(bieu, area, make_period(parse_month(first), parse_month(last), parse_as_of(as_of)))


def _raw(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(table: Table, row: Row) -> dict:
    return {
        "stt": row.stt,
        "unit": None if row.unit is None else {"code": row.unit.code, "name": row.unit.full_name},
        "name": row.name,
        "values": {c.key: _raw(row.values.get(c.key)) for c in table.columns if c.kind not in ("stt", "name")},
        "display": {c.key: table.display(row, c) for c in table.columns},
    }


def as_json(table: Table) -> dict:
    """The table as data: raw values (counts as integers, amounts in whole đồng, rates as decimal
    strings) and the cells as printed (Vietnamese formatting)."""
    return {
        "bieu": table.bieu,
        "label": table.label,
        "heading": table.heading,
        "title": table.title,
        "date_line": table.date_line,
        "area": {"code": table.area.code, "name": table.area.full_name, "level": table.area.level},
        "tree": table.tree,
        "from": table.months[0].strftime("%Y-%m"),
        "to": table.months[-1].strftime("%Y-%m"),
        "as_of": table.as_of.isoformat(),
        "months": [
            {"month": m.strftime("%Y-%m"), "estimate": e} for m, e in zip(table.months, table.estimates, strict=True)
        ],
        "columns": [{"key": c.key, "kind": c.kind, "number": c.number} for c in table.columns],
        "header": [
            {"text": h.text, "row": h.row, "col": h.col, "rowspan": h.rowspan, "colspan": h.colspan}
            for h in table.header
        ],
        "rows": [_row(table, r) for r in table.rows],
        "total": _row(table, table.total),
        "footnotes": table.footnotes,
    }
