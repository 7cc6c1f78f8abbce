"""Funeral support not collected at the pay point: returned at closing, and the next payroll
carries its line again (funeral support has no paid month for arrears to find)."""

from datetime import date

import pytest

from ansinh.cashout import closing, pay_points
from ansinh.cashout.lists import build_cash_lists
from ansinh.cashout.models import CashEntry, EntryState
from ansinh.payroll import funding, receivables
from ansinh.payroll.generation import generate_payroll
from ansinh.payroll.models import CycleState, FuneralState, LineType, PayrollLine
from ansinh.registry.models import Beneficiary
from ansinh.registry.services import record_decision
from tests.payroll.test_adjustments import M1, M2, M3, approve, cycle_for, lines, person, run


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_funeral_support_not_collected_is_paid_again_next_month(world, approver_a, preparer_a, provider_a):
    tree = world.tree
    b = person(tree.a, "Cụ Bà Mai Táng")
    run(tree, M1, approver_a)
    record_decision(
        actor=None,
        beneficiary=b,
        kind="stop",
        number="9",
        signed_on=date(2026, 4, 10),
        reason="died",
        death_date=date(2026, 4, 5),
    )
    support = receivables.record_funeral_support(
        actor=None,
        beneficiary=Beneficiary.objects.get(pk=b.pk),
        death_date=date(2026, 4, 5),
        organiser_name="Nguyễn Thị Lo",
        relationship="con gái",
    )
    april = cycle_for(tree, M2)
    generate_payroll(actor=None, cycle=april)
    april = approve(april, approver_a)
    request = funding.make_funding_request(actor=preparer_a, cycle=april)
    funding.record_advance(actor=preparer_a, cycle=april, amount=request.total, received_on=M2, reference="KB-9")
    april.refresh_from_db()
    assert april.state == CycleState.FUNDED
    pay_points.create_pay_point(
        actor=preparer_a,
        commune=tree.a,
        data=pay_points.PayPointInput(name="Nhà văn hóa xã", kind="commune_hall", address="Ấp 1", staff=[provider_a]),
    )
    build_cash_lists(actor=preparer_a, cycle=april)
    entry = CashEntry.objects.get(cycle=april, beneficiary=b, funeral=True)
    assert entry.amount == support.amount
    support.refresh_from_db()
    assert support.state == FuneralState.PAID

    result = closing.close_cash_list(actor=provider_a, cash_list=entry.cash_list)
    entry.refresh_from_db()
    support.refresh_from_db()
    assert entry.state == EntryState.RETURNED and entry.owed
    assert result["funerals_reopened"] == 1 and support.state == FuneralState.RECORDED

    may = cycle_for(tree, M3)
    generate_payroll(actor=None, cycle=may)
    funeral = lines(may, b)[LineType.FUNERAL]
    assert funeral.amount == support.amount and funeral.funeral == support
    assert PayrollLine.objects.filter(funeral=support).count() == 2
