"""The dashboard's figures on a small hand-built month (tests/monitoring/conftest.py)."""

from datetime import date
from decimal import Decimal

import pytest

from ansinh.reports import kpis
from ansinh.reports.kpis import Figures, format_number, format_share

from .conftest import M

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 3)


def _district(tree):
    return kpis.dashboard(
        paths=[tree.district.path], area=tree.district, units=kpis.child_units(tree.district), month=M, today=TODAY
    )


def test_figures_per_commune_and_total(tree, month_world):
    board = _district(tree)
    rows = {u.area.pk: u.figures for u in board.units}
    a, b = rows[tree.a.pk], rows[tree.b.pk]
    assert (a.receiving, a.with_account, a.paid_cashless, a.without_account, a.not_paid_cashless) == (4, 2, 1, 2, 1)
    assert (b.receiving, b.with_account, b.paid_cashless) == (2, 1, 1)
    assert a.paid_cashless_amount == 500_000 and b.paid_cashless_amount == 600_000
    assert a.account_share == Decimal("50.00") and a.cashless_share == Decimal("50.00")
    assert b.cashless_share == Decimal("100.00")
    t = board.total
    assert (t.receiving, t.with_account, t.paid_cashless) == (6, 3, 2)
    assert t.cashless_share == Decimal("66.67")
    assert (a.change_lists, a.change_lists_overdue, a.change_lists_on_time) == (1, 1, 0)
    assert (b.change_lists, b.change_lists_overdue, b.change_lists_on_time) == (1, 0, 1)
    assert t.on_time_share == Decimal("50.00")
    assert (a.complaints_open, a.complaints_overdue, b.complaints_open) == (1, 1, 0)  # due 20/11, now 3/12
    assert (a.transfer_exceptions, a.reconciliation_exceptions, a.open_exceptions) == (1, 0, 1)
    assert (b.transfer_exceptions, b.reconciliation_exceptions, b.open_exceptions) == (0, 1, 1)
    assert board.has_reconciliation_exceptions and t.open_exceptions == 2
    assert board.target == Decimal("30")


def test_deadlines_money_and_trends(tree, month_world):
    board = _district(tree)
    d = {x.kind: x for x in board.deadlines}
    assert (d["commune_changes"].on_time, d["commune_changes"].late) == (1, 0)
    assert (d["payroll_funding"].on_time, d["payroll_funding"].late) == (0, 1)
    assert (d["transfers"].late, d["transfers"].pending) == (1, 0)  # due 8/11, not done by 3/12
    assert d["provider_settlement"].due == 0 and d["provider_settlement"].rate is None
    money = board.money_now
    assert money.month == M
    assert (money.advanced, money.payroll, money.paid_account, money.paid_cash, money.paid, money.returned) == (
        2_000_000,
        1_800_000,
        1_100_000,
        400_000,
        1_500_000,
        300_000,
    )
    assert money.source == "ledger"  # the advance from ansinh.reconciliation.ledger.balances
    assert len(board.trends) == 12 and board.trends[-1].month == M and board.trends[0].month == date(2025, 12, 1)
    by_month = {t.month: t for t in board.trends}
    # 09/2026: b1..b5 in A (b4 from 06) and b6, b7 in B receiving; accounts b1 (05), b5 (03), b6 (01)
    assert (by_month[date(2026, 9, 1)].receiving, by_month[date(2026, 9, 1)].with_account) == (7, 3)
    # 10/2026: b5 stopped; b2 opened on 31/10
    assert (by_month[date(2026, 10, 1)].receiving, by_month[date(2026, 10, 1)].with_account) == (6, 3)
    assert by_month[M].paid_cashless == 2 and by_month[M].on_time_share == Decimal("50.00")
    # 05/2026: b4 not yet receiving
    assert by_month[date(2026, 5, 1)].receiving == 6
    # no advance recorded for 10/2026: no cycle of that month
    assert by_month[date(2026, 10, 1)] and board.money[-2].advanced is None


def test_commune_scope_sees_only_its_own(tree, month_world):
    board = kpis.dashboard(paths=[tree.b.path], area=tree.b, units=[], month=M, today=TODAY)
    assert (board.total.receiving, board.total.with_account, board.total.paid_cashless) == (2, 1, 1)
    assert board.money_now.paid_account == 600_000 and board.money_now.returned == 0
    assert board.money_now.advanced is None  # the district's cycle is not inside the commune
    assert {d.kind: d.on_time for d in board.deadlines}["commune_changes"] == 1  # the cycle above it


def test_people_lists_match_the_figures(tree, month_world):
    from ansinh.registry.models import Beneficiary

    qs = Beneficiary.objects.filter(area_path__startswith=tree.a.path)
    names = {k: sorted(b.full_name for b in kpis.people(qs, k, M)) for k in kpis.PEOPLE_KINDS}
    assert names == {
        "without_account": ["Lê Thị Ba", "Phạm Thị Bốn"],
        "not_paid_cashless": ["Trần Thị Hai"],
        "paid_cashless": ["Nguyễn Thị Một"],
    }


def test_the_query_count_does_not_grow_with_the_rows(tree, month_world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ansinh.reports import facts

    from .conftest import _account, _person

    facts.refresh()  # the aggregate tables: computed again for what the fixtures wrote
    with CaptureQueriesContext(connection) as before:
        _district(tree)
    _account(_person("Người Thêm", tree.b, tail="000100"), date(2026, 2, 1))
    with CaptureQueriesContext(connection) as refresh_one:
        facts.refresh()
    for i in range(1, 6):
        _account(_person(f"Người Thêm {i}", tree.b, tail=f"00010{i}"), date(2026, 2, 1))
    with CaptureQueriesContext(connection) as refresh_five:
        facts.refresh()
    with CaptureQueriesContext(connection) as after:
        board = _district(tree)
    assert board.total.receiving == 12
    assert len(after) == len(before) <= 16
    # the refresh of the aggregate tables: a fixed number of statements per stale month, whatever
    # the number of people written
    assert len(refresh_five) == len(refresh_one)


def test_vietnamese_numbers():
    assert format_number(1598) == "1.598"
    assert format_number(1093860) == "1.093.860"
    assert format_number(Decimal("16.52"), 2) == "16,52"
    assert format_share(Decimal("16.52")) == "16,52 %"
    assert format_share(None) == "–"
    assert format_number(-1500) == "-1.500"
    assert Figures(receiving=3, with_account=1).account_share == Decimal("33.33")
