"""Withdrawals at a pay point (ansinh.cashout.withdrawals): served is recorded; could not opens
the office's exception, flags the account and puts the credited amount on the pay point's cash
list the same month (paying it writes no second payout); idempotent by key; follow-ups closed."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ansinh.audit.models import AuditEvent
from ansinh.cashout import receipts, withdrawals
from ansinh.cashout.models import (
    AccountFollowUp,
    CashEntry,
    CashList,
    EntrySource,
    EntryState,
    Withdrawal,
)
from ansinh.disbursement import batches, sandbox, sending
from ansinh.disbursement.bank import SandboxBank
from ansinh.disbursement.models import ExceptionKind, ExceptionState, Instruction, Payout, TransferException
from tests.cashout.conftest import ACCOUNT_PERSON, PAY_POINT_PEOPLE
from tests.cashout.receipt_fixtures import entry_of, lists_fixture, places_fixture  # noqa: F401


@pytest.fixture(name="credited")
def credited_fixture(lists, preparer_a, people):
    """The month's transfers sent to the sandbox bank and answered: the account holder credited."""
    cycle = lists["pay_point"].cycle
    batches.build_batches(actor=preparer_a, cycle=cycle)
    for batch in cycle.provider_batches.all():
        sending.submit_batch(actor=preparer_a, batch=batch, bank=SandboxBank(sandbox.Options(delays=False)))
    holder = people[ACCOUNT_PERSON]
    instruction = Instruction.objects.get(line__beneficiary=holder)
    assert instruction.state == "credited"
    return holder, instruction


def withdraw(actor, point, holder, k=None, **kw):
    return withdrawals.record_withdrawal(
        actor=actor,
        pay_point=point,
        beneficiary=holder,
        idempotency_key=k or str(uuid.uuid4()),
        occurred_at=timezone.now(),
        **kw,
    )


def test_served_is_recorded_and_nothing_else(credited, places, provider_a):
    holder, _instruction = credited
    point = places[0]
    w = withdraw(provider_a, point, holder, outcome="served", means="cccd_sms", amount=500_000)
    assert w.outcome == "served" and w.cash_entry is None and w.account_id == _instruction.account_id
    assert not AccountFollowUp.objects.exists()
    assert not TransferException.objects.filter(kind=ExceptionKind.CANNOT_WITHDRAW).exists()
    assert AuditEvent.objects.filter(action="cashout.withdrawal.recorded").count() == 1
    with pytest.raises(ValidationError):
        withdraw(provider_a, point, holder, outcome="served")  # how?


def test_cannot_withdraw_gives_a_cash_path_the_same_month(credited, places, lists, provider_a, officer_a):
    holder, instruction = credited
    point = places[0]
    payouts = Payout.objects.count()
    k = str(uuid.uuid4())
    w = withdraw(provider_a, point, holder, k=k, outcome="cannot", reason="no_otp")
    # the office's exception, on the transfer's batch
    exc = TransferException.objects.get(kind=ExceptionKind.CANNOT_WITHDRAW)
    assert (exc.instruction, exc.batch, exc.state) == (instruction, instruction.batch, ExceptionState.OPEN)
    # the account flagged
    follow_up = AccountFollowUp.objects.get()
    assert follow_up.account_id == instruction.account_id and follow_up.reason == "no_otp"
    # the cash path: on the pay point's list for the month, the credited amount
    entry = w.cash_entry
    assert entry.cash_list == lists["pay_point"] and entry.source == EntrySource.WITHDRAWAL
    assert entry.amount == instruction.amount and entry.state == EntryState.PENDING
    assert (
        CashList.objects.get(pk=entry.cash_list_id).entries_count
        == CashEntry.objects.filter(cash_list=entry.cash_list).count()
    )
    # the same key again: the same withdrawal, nothing more
    assert withdraw(provider_a, point, holder, k=k, outcome="cannot", reason="no_otp").pk == w.pk
    assert Withdrawal.objects.count() == 1 and AccountFollowUp.objects.count() == 1
    # paid in cash: no second payout of the line
    paid = receipts.record_cash_receipt(
        actor=provider_a,
        entry_id=entry.pk,
        idempotency_key=str(uuid.uuid4()),
        outcome="paid",
        receiver_kind="beneficiary",
        note="Giấy xác nhận",
        occurred_at=timezone.now(),
    )
    assert paid.result == "recorded" and paid.answer["payouts"] == 0
    assert Payout.objects.count() == payouts
    # a second failure the same month reuses the entry, the exception and the open follow-up
    withdraw(provider_a, point, holder, outcome="cannot", reason="forgot_pin")
    assert CashEntry.objects.filter(beneficiary=holder).count() == 1
    assert TransferException.objects.filter(kind=ExceptionKind.CANNOT_WITHDRAW).count() == 1
    assert AccountFollowUp.objects.count() == 1
    # the officer closes the follow-up: the exception is resolved with it
    with pytest.raises(ValidationError):
        withdrawals.close_follow_up(actor=officer_a, follow_up=follow_up, note=" ")
    with pytest.raises(receipts.CashForbidden):
        withdrawals.close_follow_up(actor=provider_a, follow_up=follow_up, note="Đã cấp lại thẻ")
    withdrawals.close_follow_up(actor=officer_a, follow_up=follow_up, note="Đã cập nhật số điện thoại nhận OTP")
    follow_up.refresh_from_db()
    exc.refresh_from_db()
    assert follow_up.closed_at is not None and follow_up.closed_by == officer_a
    assert exc.state == ExceptionState.RESOLVED and exc.resolution == "to_cash"


def test_refusals(credited, places, lists, provider_a, viewer_a, officer_b):
    holder, _ = credited
    point = places[0]
    cash_person = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[0]).beneficiary
    with pytest.raises(ValidationError):  # nothing credited
        withdraw(provider_a, point, cash_person, outcome="cannot", reason="no_card")
    with pytest.raises(ValidationError):  # "other" needs a note
        withdraw(provider_a, point, holder, outcome="cannot", reason="other")
    with pytest.raises(receipts.CashForbidden):
        withdraw(viewer_a, point, holder, outcome="served", means="card")
    with pytest.raises(type(point).DoesNotExist):
        withdraw(officer_b, point, holder, outcome="served", means="card")
    assert not Withdrawal.objects.exists()
