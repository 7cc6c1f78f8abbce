"""What the office does with a reconciliation exception (issue 13 part 2). Every action goes
through the service that already owns it, and is audited here as well:

- resend to a corrected account / pay in cash this month: a same-month payment fix
  (`payroll.fixes.request_fix`, approved by a second person with a TOTP code); for a rejected
  transfer through `disbursement.resolution.ask_fix`, so that the transfer exception it mirrors
  moves with it. The exception waits ("awaiting approval") and is resolved when the fix is
  approved (`checks.sync`, run by every action and every run of the checks);
- recover: a receivable of the office (`payroll.receivables.record_receivable`; for an amount the
  bank reported differently, `disbursement.resolution.settle_overpayment`);
- write off: a receivable written off by a second person (`payroll.receivables` request, then
  approve with a TOTP code — never the requester — or reject);
- note: checked, nothing to do (a note is required).

Who: reconciliation.manage in the exception's commune (or the cycle's area); the services called
check their own capabilities too (payroll.prepare, payroll.approve)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.disbursement import resolution as transfer_resolution
from ansinh.disbursement.models import ExceptionKind, ExceptionState
from ansinh.payroll import fixes, receivables
from ansinh.payroll.models import FixKind

from . import checks
from .models import ReconException, ReconKind, ReconResolution, ReconState

K = ReconKind

# what may be done with each kind (the pages show these actions only)
ACTIONS: dict[str, tuple[str, ...]] = {
    K.HOLDER_NOT_LISTED: ("resend", "note"),
    K.NO_ACCOUNT_LISTED: ("resend", "to_cash", "note"),
    K.TRANSFER_FAILED: ("resend", "to_cash", "note"),
    K.CANNOT_WITHDRAW: ("note",),
    K.AFTER_DEATH: ("recover", "write_off", "note"),
    K.SHARED_ACCOUNT: ("recover", "write_off", "note"),
    K.REPRESENTATIVE: ("to_cash", "recover", "write_off", "note"),
    K.DUPLICATE: ("recover", "write_off", "note"),
    K.AMOUNT_DIFFERS: ("recover", "write_off", "note"),
    K.NOT_ON_STATEMENT: ("note",),
    K.UNKNOWN_ENTRY: ("note",),
}


class ResolutionRefused(DomainError):
    """The action cannot be taken on this exception now (the message says why)."""


class ResolutionForbidden(DomainError):
    """The user's role does not allow acting on this exception."""


def area_of(exc: ReconException):
    if exc.commune is not None:
        return exc.commune
    return exc.cycle.area if exc.cycle is not None else None


def may_act(user, exc: ReconException) -> bool:
    return access.can_in_area(user, Cap.RECONCILE, area_of(exc))


def _lock(exc: ReconException) -> ReconException:
    return (
        ReconException.objects.select_for_update(of=("self",))
        .select_related(
            "cycle__area", "cycle__programme", "commune", "line__representation", "beneficiary", "transfer_exception"
        )
        .get(pk=exc.pk)
    )


def _require(actor, exc: ReconException, action: str) -> None:
    if actor is None or not may_act(actor, exc):
        raise ResolutionForbidden(_("Your role does not allow resolving reconciliation exceptions here."))
    if action not in ACTIONS.get(exc.kind, ()):
        raise ResolutionRefused(_("This action does not apply to this kind of exception."))
    if exc.state == ReconState.RESOLVED:
        raise ResolutionRefused(_("This exception is already resolved."))
    if action != "approve_write_off" and exc.state == ReconState.IN_HAND and action != "note":
        raise ResolutionRefused(_("A fix or a write-off of this exception already awaits approval."))


def _text(exc: ReconException) -> dict:
    return {
        "kind": exc.kind,
        "key": exc.key,
        "amount": exc.amount,
        "name": exc.beneficiary.full_name if exc.beneficiary is not None else "",
        "cycle": str(exc.cycle) if exc.cycle is not None else "",
    }


def _audit(actor, exc: ReconException, action: str, note: str = "", **extra) -> None:
    record(
        actor=actor,
        action=f"reconciliation.exception.{action}",
        obj=exc,
        area=area_of(exc),
        after=_text(exc) | {"state": exc.state} | extra,
        note=note[:2000],
    )


def _resolve(actor, exc: ReconException, resolution: str, note: str = "") -> None:
    exc.state = ReconState.RESOLVED
    exc.resolution = resolution
    exc.resolved_at = timezone.now()
    exc.resolved_by = actor
    if note:
        exc.note = note[:2000]
    exc.save(update_fields=["state", "resolution", "resolved_at", "resolved_by", "note", "receivable"])


@transaction.atomic
def ask_fix(*, actor, exception: ReconException, kind: str, account=None, reason: str):
    """Resend to a corrected account (`kind` "resend") or pay in cash this month ("to_cash")."""
    exc = _lock(exception)
    _require(actor, exc, "resend" if kind == FixKind.RESEND else "to_cash")
    te = exc.transfer_exception
    if te is not None and te.kind == ExceptionKind.REJECTED:
        if te.state != ExceptionState.OPEN:
            raise ResolutionRefused(_("The transfer exception this mirrors is not open."))
        fix = transfer_resolution.ask_fix(actor=actor, exception=te, kind=kind, account=account, reason=reason)
    elif exc.line is not None:
        fix = fixes.request_fix(actor=actor, line=exc.line, kind=kind, account=account, reason=reason)
    else:
        raise ResolutionRefused(_("This exception concerns no payroll line: no payment fix applies."))
    exc.state = ReconState.IN_HAND
    exc.fix = fix
    exc.save(update_fields=["state", "fix"])
    _audit(actor, exc, "fix_asked", reason, fix=kind)
    return fix


def _receivable(actor, exc: ReconException, note: str, amount: int | None):
    amount = amount if amount is not None else exc.amount
    if exc.beneficiary is None or exc.cycle is None:
        raise ResolutionRefused(_("This exception names no beneficiary: there is nobody to recover from."))
    if not amount or amount <= 0:
        raise ValidationError({"amount": [_("Enter an amount in đồng greater than 0.")]})
    line = exc.line
    return receivables.record_receivable(
        actor=actor,
        beneficiary=exc.beneficiary,
        programme=exc.cycle.programme,
        amount=int(amount),
        reason=note,
        debtor_name=line.payee_name if line is not None else "",
        representation=line.representation if line is not None else None,
    )


@transaction.atomic
def recover(*, actor, exception: ReconException, note: str, amount: int | None = None) -> ReconException:
    """Record the money to recover (a receivable of the office); the exception is resolved."""
    exc = _lock(exception)
    _require(actor, exc, "recover")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Say why.")]})
    te = exc.transfer_exception
    if te is not None and te.kind == ExceptionKind.AMOUNT_MISMATCH and te.state != ExceptionState.RESOLVED:
        transfer_resolution.settle_overpayment(actor=actor, exception=te, recover=True, note=note)
    else:
        exc.receivable = _receivable(actor, exc, note, amount)
    _resolve(actor, exc, ReconResolution.RECOVERY, note)
    _audit(actor, exc, "recovered", note, receivable=exc.receivable_id)
    return exc


@transaction.atomic
def request_write_off(*, actor, exception: ReconException, reason: str, amount: int | None = None) -> ReconException:
    """Ask a second person to write the money off: the receivable is recorded (when not yet) and
    its write-off requested (`payroll.receivables`)."""
    exc = _lock(exception)
    _require(actor, exc, "write_off")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for writing off.")]})
    if exc.receivable is None:
        exc.receivable = _receivable(actor, exc, reason, amount)
    receivables.request_write_off(actor=actor, receivable=exc.receivable, reason=reason)
    exc.state = ReconState.IN_HAND
    exc.save(update_fields=["state", "receivable"])
    _audit(actor, exc, "write_off_requested", reason, receivable=exc.receivable_id)
    return exc


def approve_write_off(*, actor, exception: ReconException, token: str) -> ReconException:
    """A second person (payroll.approve, not the requester) approves with a current TOTP code."""
    exc = ReconException.objects.select_related("receivable", "commune", "cycle__area").get(pk=exception.pk)
    if exc.receivable is None or exc.state != ReconState.IN_HAND:
        raise ResolutionRefused(_("No write-off of this exception awaits approval."))
    receivables.approve_write_off(actor=actor, receivable=exc.receivable, token=token)
    with transaction.atomic():
        exc = _lock(exc)
        checks.sync(ReconException.objects.filter(pk=exc.pk))
        exc.refresh_from_db()
        _audit(actor, exc, "write_off_approved", receivable=exc.receivable_id)
    return exc


@transaction.atomic
def reject_write_off(*, actor, exception: ReconException, reason: str) -> ReconException:
    exc = _lock(exception)
    if exc.receivable is None or exc.state != ReconState.IN_HAND:
        raise ResolutionRefused(_("No write-off of this exception awaits approval."))
    receivables.reject_write_off(actor=actor, receivable=exc.receivable, reason=reason)
    exc.state = ReconState.OPEN
    exc.save(update_fields=["state"])
    _audit(actor, exc, "write_off_rejected", reason)
    return exc


@transaction.atomic
def note(*, actor, exception: ReconException, note: str) -> ReconException:
    """Checked: nothing to do (the note says what was found)."""
    exc = _lock(exception)
    _require(actor, exc, "note")
    text = (note or "").strip()
    if not text:
        raise ValidationError({"note": [_("Say what was checked.")]})
    te = exc.transfer_exception
    if te is not None and te.kind == ExceptionKind.AMOUNT_MISMATCH and te.state != ExceptionState.RESOLVED:
        transfer_resolution.settle_overpayment(actor=actor, exception=te, recover=False, note=text)
    _resolve(actor, exc, ReconResolution.NOTED, text)
    _audit(actor, exc, "noted", text)
    return exc


@transaction.atomic
def assign(*, actor, exception: ReconException, owner) -> ReconException:
    """Make a person the owner (or None: back to the kind's role)."""
    exc = _lock(exception)
    if actor is None or not may_act(actor, exc):
        raise ResolutionForbidden(_("Your role does not allow resolving reconciliation exceptions here."))
    if owner is not None and not (
        access.can_in_area(owner, Cap.RECONCILE, area_of(exc))
        or access.can_in_area(owner, Cap.RECONCILIATION_VIEW, area_of(exc))
    ):
        raise ValidationError({"owner": [_("This person does not work on reconciliation here.")]})
    exc.owner = owner
    exc.save(update_fields=["owner"])
    _audit(actor, exc, "assigned", owner=(getattr(owner, "full_name", "") or owner.get_username()) if owner else "")
    return exc


def refresh(exc: ReconException) -> ReconException:
    """The exception brought up to date with its fix / receivable / transfer exception."""
    with transaction.atomic():
        checks.sync(ReconException.objects.filter(pk=exc.pk))
    exc.refresh_from_db()
    return exc
