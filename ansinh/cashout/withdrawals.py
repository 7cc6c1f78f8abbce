"""Withdrawals by account holders at a pay point (issue 12 part 4).

An account holder of the pay point's commune whose allowance was credited this month comes to
withdraw (card, or CCCD and the SMS code). Served: recorded. Could not (no OTP, no card, forgot
the PIN, another reason): the office gets a transfer exception "could not withdraw" (on the
credited transfer's batch), the account is flagged for follow-up, and the person gets a cash path
the same month: an entry of source `withdrawal` on the pay point's cash list of the month (the
credited amount; paying it writes no payout, the line was paid by the transfer). Idempotent by
the device's key. An officer closes the follow-up with what was done."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.disbursement.models import (
    ExceptionKind,
    ExceptionState,
    Instruction,
    InstructionState,
    Payout,
    Resolution,
    TransferException,
)

from .models import (
    AccountFollowUp,
    CannotWithdrawReason,
    CashEntry,
    CashEntryLine,
    CashList,
    CashListKind,
    CashListState,
    EntrySource,
    EntryState,
    PayPoint,
    Withdrawal,
    WithdrawalMeans,
    WithdrawalOutcome,
)
from .receipts import FUTURE_TOLERANCE, KEY_PATTERN, CashForbidden


def credited_transfer(beneficiary) -> Instruction | None:
    """The person's latest credited transfer of a monthly allowance (not funeral support)."""
    return (
        Instruction.objects.filter(line__beneficiary=beneficiary, state=InstructionState.CREDITED)
        .exclude(line__line_type="funeral")
        .select_related("line__cycle", "account", "batch")
        .order_by("-line__cycle__month", "-pk")
        .first()
    )


def _cash_list(actor, pay_point: PayPoint, cycle, now) -> CashList:
    cash_list = CashList.objects.select_for_update().filter(cycle=cycle, pay_point=pay_point).first()
    if cash_list is None:
        cash_list = CashList.objects.create(
            cycle=cycle,
            kind=CashListKind.PAY_POINT,
            pay_point=pay_point,
            commune=pay_point.commune,
            area_path=pay_point.area_path or pay_point.commune.path,
            built_at=now,
            built_by=actor if getattr(actor, "pk", None) else None,
        )
    if cash_list.state == CashListState.CLOSED:
        raise ValidationError(_("The cash list of this pay point for the month is closed: it cannot take this person."))
    return cash_list


def _cash_path(actor, pay_point: PayPoint, instruction: Instruction, now) -> CashEntry:
    """The entry that pays the credited amount in cash this month (the one already there, if any)."""
    b = instruction.line.beneficiary
    cycle = instruction.line.cycle
    live = CashEntry.objects.filter(cycle=cycle, beneficiary=b, funeral=False).exclude(state=EntryState.CANCELLED)
    existing = live.first()
    if existing is not None:
        return existing
    cash_list = _cash_list(actor, pay_point, cycle, now)
    position = (CashEntry.objects.filter(cash_list=cash_list).aggregate(m=Max("position"))["m"] or 0) + 1
    entry = CashEntry.objects.create(
        cash_list=cash_list,
        cycle=cycle,
        beneficiary=b,
        village=b.village,
        position=position,
        payee_name=instruction.line.payee_name,
        representation=instruction.line.representation,
        amount=instruction.amount,
        source=EntrySource.WITHDRAWAL,
        commune=b.commune,
        area_path=b.area_path,
    )
    line_ids = list(Payout.objects.filter(instruction=instruction).values_list("line_id", flat=True)) or [
        instruction.line_id
    ]
    CashEntryLine.objects.bulk_create([CashEntryLine(entry=entry, line_id=pk) for pk in line_ids])
    CashList.objects.filter(pk=cash_list.pk).update(
        entries_count=CashEntry.objects.filter(cash_list=cash_list).exclude(state=EntryState.CANCELLED).count(),
        total_amount=sum(
            CashEntry.objects.filter(cash_list=cash_list)
            .exclude(state=EntryState.CANCELLED)
            .values_list("amount", flat=True)
        ),
    )
    return entry


def _exception(instruction: Instruction, withdrawal: Withdrawal) -> TransferException:
    exc = TransferException.objects.filter(instruction=instruction, kind=ExceptionKind.CANNOT_WITHDRAW).first()
    if exc is not None:
        if exc.state == ExceptionState.RESOLVED:  # a new failure: open again
            exc.state, exc.resolution, exc.resolved_at, exc.resolved_by = ExceptionState.OPEN, "", None, None
            exc.save(update_fields=["state", "resolution", "resolved_at", "resolved_by"])
        return exc
    return TransferException.objects.create(
        kind=ExceptionKind.CANNOT_WITHDRAW,
        instruction=instruction,
        batch=instruction.batch,
        line=instruction.line,
        commune=instruction.commune,
        area_path=instruction.area_path,
        detail={
            "reason": withdrawal.reason,
            "pay_point": withdrawal.pay_point.name,
            "amount": instruction.amount,
            "withdrawal": withdrawal.pk,
        },
    )


def _follow_up(withdrawal: Withdrawal) -> AccountFollowUp:
    assert withdrawal.account is not None  # a credited transfer's account
    open_one = AccountFollowUp.objects.filter(account=withdrawal.account, closed_at__isnull=True).first()
    if open_one is not None:
        return open_one
    return AccountFollowUp.objects.create(
        account=withdrawal.account,
        beneficiary=withdrawal.beneficiary,
        withdrawal=withdrawal,
        reason=withdrawal.reason,
        commune=withdrawal.commune,
        area_path=withdrawal.area_path,
    )


@transaction.atomic
def record_withdrawal(
    *,
    actor,
    pay_point: PayPoint,
    beneficiary,
    idempotency_key: str,
    outcome: str,
    means: str = "",
    reason: str = "",
    amount: int | None = None,
    note: str = "",
    occurred_at: dt.datetime | None = None,
) -> Withdrawal:
    """Record an account holder served (or not) at `pay_point` (see the module docstring)."""
    idempotency_key = (idempotency_key or "").strip()
    if not KEY_PATTERN.match(idempotency_key):
        raise ValidationError({"idempotency_key": _("Each record needs its own key (8 to 64 letters or digits).")})
    pay_point = PayPoint.objects.select_related("commune").get(pk=pay_point.pk)
    if not access.can_in_area(actor, Cap.CASH_VIEW, pay_point.commune):
        raise PayPoint.DoesNotExist(_("Not found."))
    if not access.can_in_area(actor, Cap.CASH_RECORD, pay_point.commune):
        raise CashForbidden(_("Your role does not allow recording withdrawals here."))
    known = Withdrawal.objects.filter(idempotency_key=idempotency_key).first()
    if known is not None:
        if known.beneficiary_id != beneficiary.pk or known.pay_point_id != pay_point.pk:
            raise ValidationError({"idempotency_key": _("This key was already used for another withdrawal.")})
        return known
    if beneficiary.commune_id != pay_point.commune_id:
        raise ValidationError({"beneficiary_id": _("This person does not live in the pay point's commune.")})
    instruction = credited_transfer(beneficiary)
    if instruction is None:
        raise ValidationError(
            {"beneficiary_id": _("No allowance was credited to this person's account: there is nothing to withdraw.")}
        )
    now = timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": _("The time is in the future: check the clock.")})
    note = (note or "").strip()[:255]
    if outcome == WithdrawalOutcome.SERVED:
        if means not in WithdrawalMeans.values:
            raise ValidationError({"means": _("Say how the person withdrew: card, or CCCD and the SMS code.")})
        if amount is not None and amount <= 0:
            raise ValidationError({"amount": _("The amount withdrawn must be a positive number of đồng.")})
        reason = ""
    elif outcome == WithdrawalOutcome.CANNOT:
        if reason not in CannotWithdrawReason.values:
            raise ValidationError({"reason": _("Choose why the person could not withdraw.")})
        if reason == CannotWithdrawReason.OTHER and not note:
            raise ValidationError({"note": _("Say what happened.")})
        means = means if means in WithdrawalMeans.values else ""
        amount = None
    else:
        raise ValidationError({"outcome": _("Say whether the person withdrew or not.")})
    withdrawal = Withdrawal(
        cycle=instruction.line.cycle,
        beneficiary=beneficiary,
        pay_point=pay_point,
        account=instruction.account,
        instruction=instruction,
        outcome=outcome,
        means=means,
        reason=reason,
        amount=amount,
        note=note,
        idempotency_key=idempotency_key,
        occurred_at=occurred_at,
        recorded_by=actor,
        commune=beneficiary.commune,
        area_path=beneficiary.area_path,
    )
    try:
        with transaction.atomic():
            withdrawal.save()
    except IntegrityError:
        known = Withdrawal.objects.filter(idempotency_key=idempotency_key).first()
        if known is not None:
            return known
        raise
    answer: dict = {"withdrawal_id": withdrawal.pk, "outcome": outcome, "credited": instruction.amount}
    if outcome == WithdrawalOutcome.CANNOT:
        entry = _cash_path(actor, pay_point, instruction, now)
        exc = _exception(instruction, withdrawal)
        follow_up = _follow_up(withdrawal)
        withdrawal.cash_entry = entry
        answer |= {
            "cash_entry_id": entry.pk,
            "cash_list_id": entry.cash_list_id,
            "exception_id": exc.pk,
            "follow_up_id": follow_up.pk,
        }
    withdrawal.answer = answer
    withdrawal.save(update_fields=["cash_entry", "answer"])
    record(
        actor=actor,
        action="cashout.withdrawal.recorded",
        obj=withdrawal,
        area=withdrawal.commune,
        after={
            "name": beneficiary.full_name,
            "pay_point": pay_point.name,
            "month": f"{withdrawal.cycle.month:%Y-%m}",
            "outcome": outcome,
            "means": means,
            "reason": reason,
            "amount": amount or 0,
            "credited": instruction.amount,
        },
        note=note,
    )
    return withdrawal


def may_close_follow_up(user, follow_up: AccountFollowUp) -> bool:
    return access.can_in_area(user, Cap.CASH_MANAGE, follow_up.commune)


@transaction.atomic
def close_follow_up(*, actor, follow_up: AccountFollowUp, note: str) -> AccountFollowUp:
    """Close a flagged account with what was done (a new card, the OTP phone corrected…); the
    office's "could not withdraw" exception of the same transfer is resolved with it."""
    follow_up = (
        AccountFollowUp.objects.select_for_update(of=("self",))
        .select_related("commune", "withdrawal", "beneficiary")
        .get(pk=follow_up.pk)
    )
    if not access.can_in_area(actor, Cap.CASH_VIEW, follow_up.commune):
        raise AccountFollowUp.DoesNotExist(_("Not found."))
    if not may_close_follow_up(actor, follow_up):
        raise CashForbidden(_("Your role does not allow closing account follow-ups here."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what was done for this account.")})
    if follow_up.closed_at is not None:
        raise ValidationError(_("This follow-up is already closed."))
    now = timezone.now()
    follow_up.closed_at = now
    follow_up.closed_by = actor if getattr(actor, "pk", None) else None
    follow_up.outcome_note = note[:255]
    follow_up.save(update_fields=["closed_at", "closed_by", "outcome_note"])
    instruction_id = follow_up.withdrawal.instruction_id or 0
    paid_in_cash = CashEntry.objects.filter(pk=follow_up.withdrawal.cash_entry_id or 0, state=EntryState.PAID).exists()
    for exc in TransferException.objects.filter(
        instruction_id=instruction_id, kind=ExceptionKind.CANNOT_WITHDRAW
    ).exclude(state=ExceptionState.RESOLVED):
        exc.state = ExceptionState.RESOLVED
        exc.resolution = Resolution.TO_CASH if paid_in_cash else Resolution.NOTED
        exc.resolved_at = now
        exc.resolved_by = follow_up.closed_by
        exc.note = note[:2000]
        exc.save(update_fields=["state", "resolution", "resolved_at", "resolved_by", "note"])
    record(
        actor=actor,
        action="cashout.follow_up.closed",
        obj=follow_up,
        area=follow_up.commune,
        after={
            "name": follow_up.beneficiary.full_name,
            "reason": follow_up.reason,
            "paid_in_cash": paid_in_cash,
        },
        note=note[:2000],
    )
    return follow_up
