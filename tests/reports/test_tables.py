"""Biểu 01/02/03 against a small hand-computed case (conftest.World): province 89 of the
pre-2025 tree, July–September 2023, as of 10/09/2023, September still being paid."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ansinh.disbursement.models import InstructionState
from ansinh.payroll.models import Channel, CycleState, LineType
from ansinh.reports.statutory import as_json, build, report
from ansinh.reports.tables import ReportError, make_period

pytestmark = pytest.mark.django_db

JUL, AUG, SEP = date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1)
AS_OF = date(2023, 9, 10)


@pytest.fixture
def pilot(world):
    w = world
    a, b, c = w.a, w.b, w.c
    for area in (a, b, c):
        for month in (JUL, AUG):
            w.cycle(area, month, CycleState.SETTLED)
    w.cycle(a, SEP, CycleState.PAYING)
    w.cycle(b, SEP, CycleState.SETTLED)
    w.cycle(c, SEP, CycleState.PAYING)
    # Châu Đốc
    p1 = w.person(a, name="P1")
    w.account(p1, date(2023, 7, 5))
    t = w.instruction(w.line(w.cycles[(a.pk, JUL)], p1, 1_000_000), InstructionState.CREDITED, 1_200_000)
    w.paid(w.cycles[(a.pk, JUL)].lines.get(beneficiary=p1), instruction=t)
    arrears = w.line(w.cycles[(a.pk, JUL)], p1, 200_000, line_type=LineType.ARREARS)
    w.paid(arrears, instruction=t)  # the same transfer pays the arrears
    w.paid(w.line(w.cycles[(a.pk, AUG)], p1, 1_000_000))
    w.paid(w.line(w.cycles[(a.pk, AUG)], p1, 3_000_000, line_type=LineType.FUNERAL))  # not an allowance
    w.instruction(w.line(w.cycles[(a.pk, SEP)], p1, 1_000_000), InstructionState.SENT)  # in flight
    p2 = w.person(a, name="P2")
    w.account(p2, date(2023, 9, 2))
    w.paid(w.line(w.cycles[(a.pk, SEP)], p2, 500_000), on=datetime(2023, 9, 9, 3, tzinfo=UTC))
    p3 = w.person(b, name="P3")
    w.account(p3, date(2023, 9, 20))  # after the as-of date
    p4 = w.person(b, name="P4")  # no account, paid in cash
    w.paid(w.line(w.cycles[(b.pk, JUL)], p4, 500_000, channel=Channel.PAY_POINT), cash=True)
    p5 = w.person(a, end=date(2023, 6, 1), name="P5")  # no longer receiving
    w.account(p5, date(2023, 7, 1))
    p6 = w.person(b, name="P6")
    w.account(p6, date(2023, 8, 1), status="pending")  # not active
    # Tịnh Biên
    q1 = w.person(c, name="Q1")
    w.account(q1, date(2023, 8, 10))
    w.paid(w.line(w.cycles[(c.pk, AUG)], q1, 700_000))
    # credited after the as-of date: September is an estimate, so it counts
    w.paid(w.line(w.cycles[(c.pk, SEP)], q1, 700_000), on=datetime(2023, 9, 15, 3, tzinfo=UTC))
    q2 = w.person(w.y, legacy=c, name="Q2")  # moved by the 2025 reform: now in Y, before in C
    w.account(q2, date(2023, 7, 15))
    w.paid(w.line(w.cycles[(c.pk, JUL)], q2, 600_500))
    q3 = w.person(c, name="Q3")
    w.account(q3, date(2023, 7, 20))
    w.instruction(w.line(w.cycles[(c.pk, JUL)], q3, 600_000), InstructionState.REJECTED)
    return w


def _period(as_of=AS_OF):
    return make_period(JUL, SEP, as_of)


def _display(table):
    return [[table.display(r, c) for c in table.columns] for r in [*table.rows, table.total]]


def test_bieu01_province_of_the_legacy_tree(pilot):
    table = build("bieu01", pilot.province, _period())
    assert [c.number for c in table.columns] == ["A", "B", "1", "2 = 4+5+6", "3=2/1", "4", "5", "6", "7"]
    assert _display(table) == [
        ["1", "Thành phố Châu Đốc", "5", "2", "40,00", "1", "0", "1", "3 chưa có TK"],
        ["2", "Thị xã Tịnh Biên", "3", "3", "100,00", "2", "1", "0", "0 chưa có TK"],
        ["", "Tổng", "8", "5", "62,50", "3", "1", "1", "3 chưa có TK"],
    ]
    assert table.date_line == "(Tính đến ngày 10/09/2023)"
    # an earlier cut-off: P2's opening of 2 September is not yet counted
    earlier = build("bieu01", pilot.province, _period(date(2023, 9, 1)))
    assert earlier.rows[0].values["opened"] == 1 and earlier.rows[0].values["note"] == "4 chưa có TK"


def test_bieu02_distinct_people_paid_through_accounts(pilot):
    table = build("bieu02", pilot.province, _period())
    assert [c.number for c in table.columns] == ["A", "B", "1", "2", "3=2/1", "4", "5", "6", "7"]
    assert _display(table) == [
        ["1", "Thành phố Châu Đốc", "2", "2", "100,00", "1", "1", "2", ""],
        ["2", "Thị xã Tịnh Biên", "3", "2", "66,67", "1", "1", "1", ""],
        ["", "Tổng số", "5", "4", "80,00", "2", "2", "3", ""],
    ]
    assert table.estimates == [False, False, True]
    assert any("Cột 2" in f for f in table.footnotes)


def test_bieu03_counts_and_amounts_in_million_dong(pilot):
    table = build("bieu03", pilot.province, _period())
    numbering = [c.number for c in table.columns]
    assert numbering == ["A", "B", "1", "2 = 5+7+9", "4", "5", "6", "7", "8", "9", "10"]
    assert _display(table) == [
        ["1", "Thành phố Châu Đốc", "2", "3,700", "1", "1,200", "1", "1,000", "2", "1,500", ""],
        # 600.500 đ → 0,6005 million → 0,601 (half up); 2.000.500 đ → 2,001
        ["2", "Thị xã Tịnh Biên", "2", "2,001", "1", "0,601", "1", "0,700", "1", "0,700", ""],
        ["", "Tổng số", "4", "5,701", "2", "1,801", "2", "1,700", "3", "2,200", ""],
    ]
    assert table.total.values["amount"] == 5_700_500  # exact đồng behind the display
    months = [h.text for h in table.header if h.row == 0 and h.colspan == 2]
    assert months == ["Tháng 7", "Tháng 8", "Tháng 9 (ước thực hiện)"]


def test_settled_month_counts_only_what_was_credited_by_the_as_of_date(pilot):
    for cycle in pilot.cycles.values():
        cycle.state = CycleState.SETTLED
        cycle.save()
    table = build("bieu03", pilot.province, _period())
    assert table.estimates == [False, False, False]
    # September: P1's transfer still in flight and Q1's credited on 15/09 no longer count
    assert [r.values["m2_people"] for r in table.rows] == [1, 0]
    assert table.total.values["m2_amount"] == 500_000


def test_district_and_commune_rows_find_the_2023_people(pilot):
    district = build("bieu02", pilot.tinh_bien, _period())
    assert [r.name for r in district.rows] == ["Phường Nhà Bàng"]
    assert (district.rows[0].values["with_account"], district.rows[0].values["paid"]) == (3, 2)
    commune = build("bieu01", pilot.c, _period())
    assert len(commune.rows) == 1 and commune.rows[0].values["beneficiaries"] == 3
    chau_doc = build("bieu03", pilot.chau_doc, _period())
    assert [r.name for r in chau_doc.rows] == ["Phường Châu Phú A", "Phường Vĩnh Mỹ"]
    assert [r.values["paid"] for r in chau_doc.rows] == [2, 0]
    # Châu Đốc's own September cycles: A's is still being paid
    assert chau_doc.estimates == [False, False, True]


def test_current_tree_places_people_where_they_are_now(pilot):
    table = build("bieu02", pilot.current, _period())
    by_name = {r.name: r.values for r in table.rows}
    assert by_name["Phường Tịnh Biên"]["with_account"] == 1  # Q2, registered in Y since the reform
    assert by_name["Phường Tịnh Biên"]["paid"] == 1 and by_name["Phường Tịnh Biên"]["m0"] == 1
    # a unit with nobody receiving and every figure 0 is left out (tables.without_empty)
    assert "Phường Châu Đốc" not in by_name and [r.stt for r in table.rows] == [
        str(i) for i in range(1, len(table.rows) + 1)
    ]


def test_one_month_and_a_year_boundary(pilot):
    one = build("bieu03", pilot.province, make_period(AUG, AUG, AS_OF))
    assert [c.number for c in one.columns] == ["A", "B", "1", "2 = 5", "4", "5", "6"]
    assert one.total.values["paid"] == 2
    across = build("bieu01", pilot.province, make_period(date(2023, 11, 1), date(2024, 2, 1), date(2024, 2, 29)))
    assert [h.text for h in across.header if h.row == 1] == ["11/2023", "12/2023", "1/2024", "2/2024"]
    assert across.columns[3].number == "2 = 4+5+6+7"


def test_json_and_errors(pilot):
    data = as_json(report("bieu02", code="89", tree="legacy", first="2023-07", last="2023-09", as_of="2023-09-10"))
    assert data["total"]["values"]["paid"] == 4 and data["total"]["values"]["rate"] == "80.00"
    assert data["total"]["display"]["rate"] == "80,00"
    assert data["months"][2] == {"month": "2023-09", "estimate": True}
    with pytest.raises(ReportError):
        report("bieu02", code="89", tree="current", first="2023-07", last="2023-09")  # 89 is not a current code
    with pytest.raises(ReportError):
        report("bieu02", code="89", tree="legacy", first="2023-09", last="2023-07")
    with pytest.raises(ReportError):
        report("bieu09", code="89", tree="legacy", first="2023-07", last="2023-09")
    assert Decimal(data["rows"][1]["values"]["rate"]) == Decimal("66.67")


def test_a_month_settled_after_the_as_of_date_is_still_an_estimate_then(pilot):
    for cycle in pilot.cycles.values():
        if cycle.month == SEP:
            cycle.state = CycleState.SETTLED
            cycle.state_changed_at = datetime(2023, 10, 20, 3, tzinfo=UTC)
            cycle.save()
    then = build("bieu03", pilot.province, _period())
    assert then.estimates == [False, False, True]
    assert then.total.values["m2_people"] == 3  # as published on 10/09: credited later and in flight
    later = build("bieu03", pilot.province, _period(date(2023, 10, 31)))
    assert later.estimates == [False, False, False]
    # settled: what was credited by 31/10 (P2, Q1); P1's transfer never credited
    assert later.total.values["m2_people"] == 2 and later.total.values["m2_amount"] == 1_200_000


def test_payouts_carry_their_lines_month_person_commune_and_type(pilot):
    from ansinh.disbursement.models import Payout

    assert Payout.objects.exists()
    for payout in Payout.objects.select_related("line__cycle"):
        line = payout.line
        assert (payout.month, payout.beneficiary_id, payout.commune_id, payout.line_type) == (
            line.cycle.month,
            line.beneficiary_id,
            line.commune_id,
            line.line_type,
        )


@pytest.mark.parametrize("as_of", [date(2023, 8, 5), AS_OF, date(2023, 9, 30), date(2024, 1, 31)])
def test_the_payouts_alone_give_the_figures_the_lines_give(pilot, as_of):
    """The one query over the payouts (every cycle of the period on the report's tree) counts
    exactly what the query over the payroll lines counts, for each unit level and as-of date."""
    from ansinh.reports import tables

    period = _period(as_of)
    for area in (pilot.province, pilot.chau_doc, pilot.tinh_bien, pilot.a, pilot.c):
        units = tables.row_units(area)
        estimates = tables.estimate_months(area, period.months, period.as_of)
        fast = tables.payment_figures(area, units, period, estimates)
        slow = tables._payment_figures_from_lines(area, units, period, estimates)
        assert fast.by_month == slow.by_month, area
        assert fast.period == slow.period, area
    # the figures themselves: Châu Đốc in July, P1 once (the allowance and the arrears of one transfer)
    units = tables.row_units(pilot.province)
    estimates = tables.estimate_months(pilot.province, period.months, period.as_of)
    figures = tables.payment_figures(pilot.province, units, period, estimates)
    assert figures.by_month[(pilot.chau_doc.pk, JUL)] == (1, 1_200_000)


@pytest.mark.parametrize("as_of", [date(2023, 8, 5), AS_OF, date(2023, 9, 30), date(2024, 1, 31)])
def test_the_aggregate_tables_give_the_figures_the_payouts_give(pilot, as_of):
    """The aggregate tables (ansinh.reports.facts) count what the payouts count, for each unit
    level; they decline (None) only when a settled month was paid after the as-of date."""
    from ansinh.reports import tables

    period = _period(as_of)
    for area in (pilot.province, pilot.chau_doc, pilot.tinh_bien, pilot.a, pilot.c):
        units = tables.row_units(area)
        estimates = tables.estimate_months(area, period.months, period.as_of)
        facts = tables._payment_figures_from_facts(area, units, period, estimates)
        exact = tables._payment_figures_from_payouts(area, units, period, estimates)
        if as_of >= date(2023, 9, 30):
            assert facts is not None, area
        if facts is not None:
            assert facts.by_month == exact.by_month, area
            assert facts.period == exact.period, area
