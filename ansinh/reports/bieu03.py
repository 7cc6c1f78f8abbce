"""Biểu 03: settlement of payments through accounts ("Kết quả thanh quyết toán chi trả qua tài
khoản nhận trợ cấp cho đối tượng bảo trợ xã hội"): per unit and month the distinct beneficiaries
paid through an account and the amount in million đồng.

Columns: 1 the distinct beneficiaries paid through an account in the period; 2 = 5+7+9 the
sum of the months' amounts (computed in đồng, shown in million đồng with three decimals); per
month "Số đối tượng" and "Số tiền (triệu đồng)" (numbered 4, 5 / 6, 7 / 8, 9 as in the source,
which skips 3). A month whose cycles are not all settled or closed is headed "(ước thực hiện)"
and counts transfers still in flight. Totals are the sums of the unit rows."""

from __future__ import annotations

from datetime import date

from ansinh.areas.models import Area

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

TITLE = "Kết quả thanh quyết toán chi trả qua tài khoản nhận trợ cấp cho đối tượng bảo trợ xã hội"
ESTIMATE = "(ước thực hiện)"


def columns(months: list[date]) -> list[Column]:
    n = len(months)
    amounts = [str(5 + 2 * i) for i in range(n)]
    cols = [
        Column("stt", "stt", "A"),
        Column("name", "name", "B"),
        Column("paid", "int", "1"),
        Column("amount", "million", "2 = " + "+".join(amounts)),
    ]
    for i in range(n):
        cols += [Column(f"m{i}_people", "int", str(4 + 2 * i)), Column(f"m{i}_amount", "million", amounts[i])]
    cols.append(Column("note", "note", str(4 + 2 * n)))
    return cols


def header(months: list[date], estimates: list[bool]) -> list[HeaderCell]:
    n = len(months)
    cells = [
        HeaderCell("STT", 0, 0, rowspan=2),
        HeaderCell("Tên đơn vị", 0, 1, rowspan=2),
        HeaderCell("Tổng số đối tượng được chi trả tài khoản", 0, 2, rowspan=2),
        HeaderCell("Tổng kinh phí chi trả (triệu đồng)", 0, 3, rowspan=2),
    ]
    for i, (m, estimate) in enumerate(zip(months, estimates, strict=True)):
        text = f"Tháng {month_label(m, months)}" + (f" {ESTIMATE}" if estimate else "")
        cells.append(HeaderCell(text, 0, 4 + 2 * i, colspan=2))
        cells.append(HeaderCell("Số đối tượng", 1, 4 + 2 * i))
        cells.append(HeaderCell("Số tiền (triệu đồng)", 1, 5 + 2 * i))
    cells.append(HeaderCell("Ghi chú", 0, 4 + 2 * n, rowspan=2))
    return cells


def bieu03(area: Area, period: Period) -> Table:
    months = period.months
    n = len(months)
    units = row_units(area)
    estimates = estimate_months(area, months, period.as_of)
    payments = payment_figures(area, units, period, estimates)
    rows = unit_rows(units)
    keys = ["paid", *[f"m{i}_{k}" for i in range(n) for k in ("people", "amount")]]
    for row in rows:
        assert row.unit is not None
        pk = row.unit.pk
        row.values["paid"] = payments.period.get(pk, 0)
        for i, m in enumerate(months):
            people, dong = payments.by_month.get((pk, m), (0, 0))
            row.values[f"m{i}_people"] = people
            row.values[f"m{i}_amount"] = dong
        row.values["amount"] = sum(int(row.values[f"m{i}_amount"]) for i in range(n))
        row.values["note"] = ""
    rows = without_empty(rows, account_figures(area, units, period).beneficiaries)
    total = Row(stt="", unit=None, name="Tổng số")
    for key in [*keys, "amount"]:
        total.values[key] = sum(int(r.values[key]) for r in rows)
    total.values["note"] = ""
    return Table(
        bieu="bieu03",
        label="Biểu 03",
        title=TITLE,
        area=area,
        tree=area.tree,
        months=months,
        as_of=period.as_of,
        estimates=estimates,
        columns=columns(months),
        header=header(months, estimates),
        rows=rows,
        total=total,
    )
