"""Closing a cash list (ansinh.cashout.closing): the unpaid cash returned; a person still
entitled is owed and next month's payroll pays the month as arrears; a death or a move asks the
commune to record it; closing twice changes nothing; a closed list answers conflicts."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from ansinh.audit.models import AuditEvent
from ansinh.cashout import closing, receipts
from ansinh.cashout.models import CashListState, EntryState, ReceiptResult
from ansinh.notifications.models import Message
from ansinh.payroll.generation import generate_payroll
from ansinh.payroll.models import CycleState, LineType, PaidMonth, PaymentCycle, PayrollLine
from ansinh.payroll.services import open_cycles
from ansinh.policy.models import Category
from tests.cashout.conftest import HOME_PEOPLE, PAY_POINT_PEOPLE
from tests.cashout.receipt_fixtures import entry_of, lists_fixture, places_fixture  # noqa: F401
from tests.payroll.conftest import appraise


@pytest.fixture
def people(world, village_b):
    """Only cash recipients (tests/cashout's people without the account holder): a cycle paid
    all in cash."""
    from ansinh.payments.models import PaymentMethod
    from tests.cashout.conftest import MONTH
    from tests.disbursement.conftest import person

    out = {}
    for name in PAY_POINT_PEOPLE + HOME_PEOPLE:
        b = out[name] = person(world.tree, name)
        method = "pay_point" if name in PAY_POINT_PEOPLE else "home"
        PaymentMethod.objects.create(beneficiary=b, method=method, cash_reason="choice", from_month=MONTH)
    return out


def record(actor, entry, outcome, **kw):
    if outcome == "paid":
        kw.setdefault("receiver_kind", "beneficiary")
        kw.setdefault("note", "Giấy xác nhận")
    return receipts.record_cash_receipt(
        actor=actor,
        entry_id=entry.pk,
        idempotency_key=str(uuid.uuid4()),
        outcome=outcome,
        occurred_at=timezone.now(),
        **kw,
    )


def test_closing_returns_the_unpaid_and_next_month_pays_the_owed_as_arrears(
    lists, provider_a, preparer_a, officer_a, world
):
    point = lists["pay_point"]
    paid, absent, died = (entry_of(point, n) for n in PAY_POINT_PEOPLE)
    never = entry_of(lists["home"], HOME_PEOPLE[0])
    record(provider_a, paid, "paid")
    record(provider_a, absent, "not_paid", reason="absent")
    record(provider_a, died, "not_paid", reason="died")
    cycle = point.cycle
    march = cycle.month

    result = closing.close_cash_list(actor=preparer_a, cash_list=point)
    assert result["returned"] == 2 and result["owed"] == 1 and result["stops"] == 1
    assert result["returned_amount"] == absent.amount + died.amount
    for e in (paid, absent, died):
        e.refresh_from_db()
    assert paid.state == EntryState.PAID
    assert (absent.state, absent.owed) == (EntryState.RETURNED, True)
    assert (died.state, died.owed) == (EntryState.RETURNED, False)
    assert not PaidMonth.objects.filter(beneficiary=absent.beneficiary, month=march).exists()
    assert PaidMonth.objects.filter(beneficiary=died.beneficiary, month=march).exists()
    assert PaidMonth.objects.filter(beneficiary=paid.beneficiary, month=march).exists()
    # the commune officer is asked to record the death in the registry
    note = Message.objects.get(template_key="cashout.record_stop", user=officer_a)
    assert note.channel == "in_app" and died.beneficiary.full_name in note.text
    assert AuditEvent.objects.filter(action="cashout.list.closed").count() == 1

    # closing again changes nothing
    again = closing.close_cash_list(actor=preparer_a, cash_list=point)
    assert again["already_closed"] and AuditEvent.objects.filter(action="cashout.list.closed").count() == 1
    assert Message.objects.filter(template_key="cashout.record_stop").count() == 1
    # a receipt sent after closing is a conflict and changes nothing
    late = record(provider_a, absent, "paid")
    absent.refresh_from_db()
    assert late.result == ReceiptResult.CLOSED and absent.state == EntryState.RETURNED

    # the home list: never visited → owed too
    closing.close_cash_list(actor=provider_a, cash_list=lists["home"])
    never.refresh_from_db()
    assert never.owed and never.state == EntryState.RETURNED

    # next month's payroll pays March as arrears to the absent and the never visited, not to the others
    open_cycles(actor=None, month=march.replace(month=4), area=world.tree.a)
    programme_id = Category.objects.get(code="D20.5.5.c").programme_id
    april = appraise(
        PaymentCycle.objects.get(month=march.replace(month=4), area=world.tree.a, programme_id=programme_id)
    )
    generate_payroll(actor=None, cycle=april)
    arrears = {
        line.beneficiary_id: line for line in PayrollLine.objects.filter(cycle=april, line_type=LineType.ARREARS)
    }
    home_ids = {entry_of(lists["home"], n).beneficiary_id for n in HOME_PEOPLE}  # both never visited
    assert set(arrears) == {absent.beneficiary_id} | home_ids and never.beneficiary_id in home_ids
    assert arrears[absent.beneficiary_id].months == {f"{march:%Y-%m}": absent.amount}
    assert arrears[absent.beneficiary_id].amount == absent.amount
    assert cycle.pk != april.pk


def test_the_first_receipt_of_an_all_cash_cycle_moves_it_to_paying(lists, provider_a):
    cycle = lists["pay_point"].cycle
    assert cycle.state == CycleState.FUNDED
    record(provider_a, entry_of(lists["home"], HOME_PEOPLE[0]), "not_paid", reason="absent")
    cycle.refresh_from_db()
    assert cycle.state == CycleState.PAYING
    moves = AuditEvent.objects.filter(action="payroll.cycle.transitioned", object_id=str(cycle.pk))
    assert [e.after["state"] for e in moves.order_by("pk")][-2:] == ["sent_to_provider", "paying"]
    record(provider_a, entry_of(lists["home"], HOME_PEOPLE[1]), "paid")
    cycle.refresh_from_db()
    assert cycle.state == CycleState.PAYING


def test_only_managers_and_provider_staff_close(lists, viewer_a, officer_b):
    with pytest.raises(receipts.CashForbidden):
        closing.close_cash_list(actor=viewer_a, cash_list=lists["pay_point"])
    with pytest.raises(type(lists["pay_point"]).DoesNotExist):
        closing.close_cash_list(actor=officer_b, cash_list=lists["pay_point"])
    lists["pay_point"].refresh_from_db()
    assert lists["pay_point"].state == CashListState.OPEN
