"""Biểu 01: account opening by unit and month ("Kết quả mở tài khoản nhận trợ cấp cho đối tượng
bảo trợ xã hội"), as attached to report 3010/BC-SLĐTBXH (2023).

Columns: 1 the beneficiaries receiving in the period's last month (registered place); 2 = 4+5+6
those of them whose first active receiving account was opened in the months shown (up to the
as-of date); 3 = 2/1 in %; one column per month of the period with the first openings in that
month; Ghi chú "N chưa có TK": those receiving without an active account opened by the cut-off.
Totals are the sums of the unit rows; the total rate is recomputed from the totals."""

from __future__ import annotations

from datetime import date

from ansinh.areas.models import Area

from . import numbers
from .tables import (
    Column,
    HeaderCell,
    Period,
    Row,
    Table,
    account_figures,
    month_label,
    row_units,
    unit_rows,
    without_empty,
)

TITLE = "Kết quả mở tài khoản nhận trợ cấp cho đối tượng bảo trợ xã hội"


def columns(months: list[date]) -> list[Column]:
    n = len(months)
    month_numbers = [str(4 + i) for i in range(n)]
    return [
        Column("stt", "stt", "A"),
        Column("name", "name", "B"),
        Column("beneficiaries", "int", "1"),
        Column("opened", "int", "2 = " + "+".join(month_numbers)),
        Column("rate", "rate", "3=2/1"),
        *[Column(f"m{i}", "int", month_numbers[i]) for i in range(n)],
        Column("note", "note", str(4 + n)),
    ]


def header(months: list[date]) -> list[HeaderCell]:
    n = len(months)
    cells = [
        HeaderCell("STT", 0, 0, rowspan=2),
        HeaderCell("Tên đơn vị", 0, 1, rowspan=2),
        HeaderCell("Tổng số đối tượng hưởng", 0, 2, rowspan=2),
        HeaderCell("Tổng số đối tượng được mở TK nhận trợ cấp", 0, 3, rowspan=2),
        HeaderCell("Tỷ lệ (%)", 0, 4, rowspan=2),
        HeaderCell("Tháng", 0, 5, colspan=n),
        HeaderCell("Ghi chú", 0, 5 + n, rowspan=2),
    ]
    cells += [HeaderCell(month_label(m, months), 1, 5 + i) for i, m in enumerate(months)]
    return cells


def _fill(row: Row, n: int) -> None:
    v = row.values
    v["opened"] = sum(int(v[f"m{i}"]) for i in range(n))
    v["rate"] = numbers.rate(int(v["opened"]), int(v["beneficiaries"]))
    v["note"] = f"{numbers.fmt_int(int(v['without']))} chưa có TK"


def bieu01(area: Area, period: Period) -> Table:
    months = period.months
    units = row_units(area)
    figures = account_figures(area, units, period)
    rows = unit_rows(units)
    for row in rows:
        assert row.unit is not None
        pk = row.unit.pk
        row.values["beneficiaries"] = figures.beneficiaries.get(pk, 0)
        for i, m in enumerate(months):
            row.values[f"m{i}"] = figures.opened.get((pk, m), 0)
        row.values["without"] = figures.beneficiaries.get(pk, 0) - figures.with_account.get(pk, 0)
        _fill(row, len(months))
    rows = without_empty(rows, figures.beneficiaries)
    total = Row(stt="", unit=None, name="Tổng")
    for key in ["beneficiaries", "without", *[f"m{i}" for i in range(len(months))]]:
        total.values[key] = sum(int(r.values[key]) for r in rows)
    _fill(total, len(months))
    return Table(
        bieu="bieu01",
        label="Biểu 01",
        title=TITLE,
        area=area,
        tree=area.tree,
        months=months,
        as_of=period.as_of,
        estimates=[False] * len(months),
        columns=columns(months),
        header=header(months),
        rows=rows,
        total=total,
    )
