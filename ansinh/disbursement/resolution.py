"""What the office does with a transfer exception (issue 11 part 4). Every step is audited.

- A rejected transfer: fix the account and resend within the month, or pay this month in cash.
  Both are same-month fixes of the line (`payroll.fixes`: asked by the office, approved by a
  second person with a TOTP code); the exception is "in hand" while the fix waits and resolved
  when it is approved (`fix_approved`, called by payroll.fixes). A resend then gets a new
  instruction with its own end-to-end id (`batches.build_batches`, in the month's next batch);
  a switch to cash puts the line on the cash list.
- A held line (a stop recorded after approval): the stop stands (not paid: the instruction is
  cancelled) or, when the stop does not concern this month, the line is released and sent.
- A late credit after a switch to cash, or an amount that differs: recorded as an overpayment to
  recover from the payee (a receivable), or noted after checking with the provider.
- No answer from the bank: resolved by a status query (`sending.query_status`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.payroll import fixes
from ansinh.payroll.models import FixKind, LineFix

from .batches import BatchForbidden, end_to_end_id
from .models import (
    BatchState,
    ExceptionKind,
    ExceptionState,
    Instruction,
    InstructionState,
    Resolution,
    TransferException,
)

I = InstructionState  # noqa: E741
WITH_BANK = (I.SENT, I.ACCEPTED, I.CREDITED)


def transfer_blocker(line, kind: str) -> str | None:
    """Why a same-month fix of `line` cannot be asked for or approved now (payroll.fixes calls
    this): a transfer with the bank or credited must get its answer first."""
    live = Instruction.objects.filter(line=line, state__in=WITH_BANK).first()
    if live is None:
        return None
    if live.state == I.CREDITED:
        return _("The transfer of this line was credited: it cannot be paid again.")
    return _("The transfer %(id)s is with the bank: wait for its answer (or ask the bank for its status).") % {
        "id": live.end_to_end_id
    }


def _text(exc: TransferException) -> dict:
    out: dict = {"kind": exc.kind, "batch": exc.batch.message_id}
    if exc.instruction is not None:
        out |= {"transfer": exc.instruction.end_to_end_id, "amount": exc.instruction.amount}
    return out


def _instruction(exc: TransferException) -> Instruction:
    if exc.instruction is None:
        raise ValidationError(_("This exception concerns the whole batch, not one transfer."))
    return exc.instruction


def _require(actor, exc: TransferException) -> None:
    if not access.can_in_area(actor, Cap.PAYROLL_PREPARE, exc.commune):
        raise BatchForbidden(_("Your role does not allow resolving transfer exceptions here."))


def _lock(exc: TransferException) -> TransferException:
    return (
        TransferException.objects.select_for_update(of=("self",))
        .select_related("instruction__line__beneficiary", "instruction__line__cycle", "batch", "commune")
        .get(pk=exc.pk)
    )


def _resolve(actor, exc: TransferException, resolution: str, note: str = "") -> None:
    exc.state = ExceptionState.RESOLVED
    exc.resolution = resolution
    exc.resolved_at = timezone.now()
    exc.resolved_by = actor if getattr(actor, "pk", None) else None
    if note:
        exc.note = note[:2000]
    exc.save(update_fields=["state", "resolution", "resolved_at", "resolved_by", "note"])
    record(
        actor=actor,
        action="disbursement.exception.resolved",
        obj=exc,
        area=exc.commune,
        after=_text(exc) | {"resolution": resolution},
        note=note[:2000],
    )


@transaction.atomic
def ask_fix(*, actor, exception: TransferException, kind: str, account=None, reason: str) -> LineFix:
    """For a rejected transfer: ask to resend to a corrected account or to pay in cash (the fix
    a second person approves)."""
    exc = _lock(exception)
    _require(actor, exc)
    if exc.kind != ExceptionKind.REJECTED or exc.state != ExceptionState.OPEN:
        raise ValidationError(_("Only an open exception of a rejected transfer is fixed this way."))
    fix = fixes.request_fix(actor=actor, line=_instruction(exc).line, kind=kind, account=account, reason=reason)
    exc.state = ExceptionState.IN_HAND
    exc.fix = fix
    exc.save(update_fields=["state", "fix"])
    record(
        actor=actor,
        action="disbursement.exception.fix_asked",
        obj=exc,
        area=exc.commune,
        after=_text(exc) | {"fix": kind},
    )
    return fix


def fix_approved(fix: LineFix, actor) -> None:
    """payroll.fixes calls this when a fix is approved: the line's exceptions it answers are
    resolved; a switch to cash cancels a transfer not yet sent."""
    if fix.kind == FixKind.TO_CASH:
        Instruction.objects.filter(line_id=fix.line_id, state__in=[I.CREATED, I.HELD]).update(
            state=I.CANCELLED, status_at=timezone.now()
        )
    resolution = Resolution.RESENT if fix.kind == FixKind.RESEND else Resolution.TO_CASH
    for exc in (
        TransferException.objects.filter(line_id=fix.line_id, kind=ExceptionKind.REJECTED)
        .exclude(state=ExceptionState.RESOLVED)
        .select_related("instruction", "batch", "commune")
    ):
        exc.fix = fix
        exc.save(update_fields=["fix"])
        _resolve(actor, exc, resolution)
    # the cash lists of the month, once made, follow at once (a line switched to cash shows up)
    from ansinh.cashout.lists import refresh_after_fix

    refresh_after_fix(actor=actor, cycle=fix.line.cycle)


def fix_rejected(fix: LineFix, actor) -> None:
    """The fix was refused: the exception is open again."""
    TransferException.objects.filter(fix=fix, state=ExceptionState.IN_HAND).update(state=ExceptionState.OPEN)


@transaction.atomic
def settle_hold(*, actor, exception: TransferException, release: bool, note: str) -> TransferException:
    """A held line: the stop stands (not paid) or the line is released and sent."""
    exc = _lock(exception)
    _require(actor, exc)
    note = (note or "").strip()
    if exc.kind != ExceptionKind.HELD or exc.state == ExceptionState.RESOLVED:
        raise ValidationError(_("Only an open exception of a held transfer is settled this way."))
    if not note:
        raise ValidationError({"note": _("Say why.")})
    instruction = Instruction.objects.select_for_update().get(pk=_instruction(exc).pk)
    if instruction.state != I.HELD:
        raise ValidationError(_("This transfer is no longer held."))
    if release:
        if exc.batch.state == BatchState.CREATED:
            instruction.state = I.CREATED
            instruction.save(update_fields=["state"])
        else:
            # the batch's file is written: the transfer goes into the month's next batch
            from .batches import _open_batch

            instruction.state = I.CANCELLED
            instruction.save(update_fields=["state"])
            cycle = exc.batch.cycle
            batch = _open_batch(cycle, exc.batch.contract, cycle.approval, actor)
            attempts = Instruction.objects.filter(line_id=instruction.line_id).count()
            Instruction.objects.create(
                batch=batch,
                line_id=instruction.line_id,
                end_to_end_id=end_to_end_id(instruction.line_id, attempts + 1),
                amount=instruction.amount,
                creditor_name=instruction.creditor_name,
                account_id=instruction.account_id,
                institution_code=instruction.institution_code,
                institution_bin=instruction.institution_bin,
                account_last4=instruction.account_last4,
                remittance=instruction.remittance,
                resend_of=instruction,
                commune_id=instruction.commune_id,
                area_path=instruction.area_path,
            )
            from .batches import _refresh_totals

            _refresh_totals(batch)
        _resolve(actor, exc, Resolution.NOTED, note)
    else:
        instruction.state = I.CANCELLED
        instruction.status_at = timezone.now()
        instruction.save(update_fields=["state", "status_at"])
        _resolve(actor, exc, Resolution.NOT_PAID, note)
    return exc


@transaction.atomic
def settle_overpayment(*, actor, exception: TransferException, recover: bool, note: str) -> TransferException:
    """A late credit after a switch to cash, or an amount that differs: recover the money from
    the payee (a receivable of the office) or note what the provider confirmed."""
    from ansinh.payroll.receivables import record_receivable

    exc = _lock(exception)
    _require(actor, exc)
    note = (note or "").strip()
    if (
        exc.kind not in (ExceptionKind.LATE_CREDIT, ExceptionKind.AMOUNT_MISMATCH)
        or exc.state == ExceptionState.RESOLVED
    ):
        raise ValidationError(_("Only an open exception of a late credit or a differing amount is settled this way."))
    if not note:
        raise ValidationError({"note": _("Say what the provider confirmed.")})
    if recover:
        transfer = _instruction(exc)
        line = transfer.line
        record_receivable(
            actor=actor,
            beneficiary=line.beneficiary,
            programme=line.cycle.programme,
            amount=transfer.amount,
            reason=note,
            debtor_name=line.payee_name,
            representation=line.representation,
        )
        _resolve(actor, exc, Resolution.RECOVERY, note)
    else:
        _resolve(actor, exc, Resolution.NOTED, note)
    return exc
