"""Biểu 02: payment through accounts by unit and month ("Kết quả chi trả qua tài khoản nhận trợ
cấp cho đối tượng bảo trợ xã hội").

Columns: 1 the beneficiaries receiving in the period's last month with an active account opened
by the cut-off (registered place, as Biểu 01); 2 the DISTINCT beneficiaries paid through an
account in the period (place paid); 3 = 2/1 in %; one column per month: the distinct
beneficiaries paid through an account for that month's cycles. The source prints "2 = 4+5+6"
but its figures (409, 704, 1.113) are the distinct count: the numbering row shows "2" and a
footnote says so. Totals are the sums of the unit rows."""

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
    estimate_months,
    month_label,
    payment_figures,
    row_units,
    unit_rows,
    without_empty,
)

TITLE = "Kết quả chi trả qua tài khoản nhận trợ cấp cho đối tượng bảo trợ xã hội"
FOOTNOTE_COLUMN_2 = (
    "Cột 2: số đối tượng được chi trả qua tài khoản trong kỳ, mỗi đối tượng tính một lần "
    "(không phải tổng các cột tháng: một đối tượng được chi trả nhiều tháng)."
)


def columns(months: list[date]) -> list[Column]:
    n = len(months)
    return [
        Column("stt", "stt", "A"),
        Column("name", "name", "B"),
        Column("with_account", "int", "1"),
        Column("paid", "int", "2"),
        Column("rate", "rate", "3=2/1"),
        *[Column(f"m{i}", "int", str(4 + i)) for i in range(n)],
        Column("note", "note", str(4 + n)),
    ]


def header(months: list[date]) -> list[HeaderCell]:
    n = len(months)
    cells = [
        HeaderCell("STT", 0, 0, rowspan=2),
        HeaderCell("Tên đơn vị", 0, 1, rowspan=2),
        HeaderCell("Tổng số đối tượng có tài khoản", 0, 2, rowspan=2),
        HeaderCell("Tổng số đối tượng được chi trả qua TK", 0, 3, rowspan=2),
        HeaderCell("Tỷ lệ (%)", 0, 4, rowspan=2),
        HeaderCell("Tháng", 0, 5, colspan=n),
        HeaderCell("Ghi chú", 0, 5 + n, rowspan=2),
    ]
    cells += [HeaderCell(month_label(m, months), 1, 5 + i) for i, m in enumerate(months)]
    return cells


def bieu02(area: Area, period: Period) -> Table:
    months = period.months
    units = row_units(area)
    estimates = estimate_months(area, months, period.as_of)
    accounts = account_figures(area, units, period)
    payments = payment_figures(area, units, period, estimates)
    rows = unit_rows(units)
    for row in rows:
        assert row.unit is not None
        pk = row.unit.pk
        row.values["with_account"] = accounts.with_account.get(pk, 0)
        row.values["paid"] = payments.period.get(pk, 0)
        for i, m in enumerate(months):
            row.values[f"m{i}"] = payments.by_month.get((pk, m), (0, 0))[0]
        row.values["rate"] = numbers.rate(int(row.values["paid"]), int(row.values["with_account"]))
        row.values["note"] = ""
    rows = without_empty(rows, accounts.beneficiaries)
    total = Row(stt="", unit=None, name="Tổng số")
    for key in ["with_account", "paid", *[f"m{i}" for i in range(len(months))]]:
        total.values[key] = sum(int(r.values[key]) for r in rows)
    total.values["rate"] = numbers.rate(int(total.values["paid"]), int(total.values["with_account"]))
    total.values["note"] = ""
    footnotes = [FOOTNOTE_COLUMN_2]
    labels = [month_label(m, months) for m, e in zip(months, estimates, strict=True) if e]
    if labels:
        footnotes.append(
            f"Tháng {', '.join(labels)}: ước thực hiện (gồm cả các khoản chuyển tiền đang xử lý tại ngân hàng)."
        )
    return Table(
        bieu="bieu02",
        label="Biểu 02",
        title=TITLE,
        area=area,
        tree=area.tree,
        months=months,
        as_of=period.as_of,
        estimates=estimates,
        columns=columns(months),
        header=header(months),
        rows=rows,
        total=total,
        footnotes=footnotes,
    )
