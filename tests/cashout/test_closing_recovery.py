"""A recovery deducted from cash that was never paid did not happen: closing the list gives the
amount back to its receivable (open again), the closing's audit entry says how much went back
to which receivable, and the next payroll deducts it again."""

import pytest

from ansinh.audit.models import AuditEvent
from ansinh.cashout import closing, pay_points
from ansinh.cashout.lists import build_cash_lists
from ansinh.cashout.models import CashEntry, EntryState
from ansinh.payroll import funding, receivables
from ansinh.payroll.generation import generate_payroll
from ansinh.payroll.models import CycleState, LineType, ReceivableState
from ansinh.policy.models import Category
from tests.payroll.test_adjustments import CODE, M1, M2, approve, cycle_for, lines, monthly, person


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_closing_gives_an_unpaid_recovery_back_to_its_receivable(world, approver_a, preparer_a, provider_a):
    tree = world.tree
    b = person(tree.a, "Cụ Ông Vắng Nhà")
    owed = 100_000
    receivable = receivables.record_receivable(
        actor=preparer_a,
        beneficiary=b,
        programme=Category.objects.get(code=CODE).programme,
        amount=owed,
        reason="Nhận trùng tháng trước",
    )
    march = cycle_for(tree, M1)
    generate_payroll(actor=None, cycle=march)
    assert lines(march, b)[LineType.RECOVERY].amount == -owed
    march = approve(march, approver_a)
    receivable.refresh_from_db()
    assert (receivable.recovered, receivable.state) == (owed, ReceivableState.RECOVERED)
    request = funding.make_funding_request(actor=preparer_a, cycle=march)
    funding.record_advance(actor=preparer_a, cycle=march, amount=request.total, received_on=M1, reference="KB-1")
    march.refresh_from_db()
    assert march.state == CycleState.FUNDED
    pay_points.create_pay_point(
        actor=preparer_a,
        commune=tree.a,
        data=pay_points.PayPointInput(name="Nhà văn hóa xã", kind="commune_hall", address="Ấp 1", staff=[provider_a]),
    )
    build_cash_lists(actor=preparer_a, cycle=march)
    entry = CashEntry.objects.get(cycle=march, beneficiary=b, funeral=False)
    assert entry.amount == monthly(b, M1, tree) - owed  # the net: allowance less the recovery

    result = closing.close_cash_list(actor=provider_a, cash_list=entry.cash_list)
    entry.refresh_from_db()
    receivable.refresh_from_db()
    assert entry.state == EntryState.RETURNED and entry.owed
    assert result["recoveries_given_back"] == owed
    assert (receivable.recovered, receivable.state) == (0, ReceivableState.OPEN)
    event = AuditEvent.objects.get(action="cashout.list.closed")
    assert event.after["receivables_given_back"] == {str(receivable.pk): owed}

    # closing again gives nothing back twice
    closing.close_cash_list(actor=provider_a, cash_list=entry.cash_list)
    receivable.refresh_from_db()
    assert receivable.recovered == 0

    # April: March is paid as arrears and the recovery is deducted again
    april = cycle_for(tree, M2)
    generate_payroll(actor=None, cycle=april)
    april_lines = lines(april, b)
    assert april_lines[LineType.ARREARS].amount == monthly(b, M1, tree)
    assert april_lines[LineType.RECOVERY].amount == -owed and april_lines[LineType.RECOVERY].receivable == receivable
