"""Same-month fixes of HOW an approved line is paid (issue 10 part 3): resend to a corrected
account of the beneficiary, or pay in cash this month. A fix is its own record (`LineFix`)
linked to the line, requested by the office (payroll.prepare) and approved by a second person
(payroll.approve, never the requester) with a code of their authenticator app. The line itself
never changes (the approved payroll is immutable); its amount never changes either: amount
corrections go into the next month.

`effective_channel(line)` and `with_effective_channel(queryset)` give the channel (and account)
a line is paid through once the approved fixes are applied: the provider lists, the disbursement
and the cash issues read them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, Case, F, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access, otp
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.payments.models import AccountStatus, ReceivingAccount

from .models import Channel, CycleState, FixKind, FixState, LineFix, PayrollApproval, PayrollLine

S = CycleState
# A same-month fix makes sense while the month is being paid.
FIXABLE_STATES = (S.APPROVED, S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING)


def _user_name(user) -> str:
    if user is None:
        return _("the system")
    return getattr(user, "full_name", "") or user.get_username()


# --- the channel after the approved fixes -----------------------------------------------------------


def _latest_approved():
    return LineFix.objects.filter(line_id=OuterRef("pk"), state=FixState.APPROVED).order_by("-decided_at", "-id")


def with_effective_channel(qs: QuerySet[PayrollLine]) -> QuerySet:
    """Annotate each line with `effective_channel` and `effective_account_id`: those of its
    latest approved fix, else its own (one query, whatever the number of lines; a fix to cash
    has no account)."""
    latest = _latest_approved()
    return qs.annotate(
        fix_id=Subquery(latest.values("id")[:1]),
        effective_channel=Coalesce(Subquery(latest.values("channel")[:1]), F("channel")),
    ).annotate(
        effective_account_id=Case(
            When(fix_id__isnull=False, then=Subquery(latest.values("account_id")[:1])),
            default=F("account_id"),
            output_field=BigIntegerField(),
        )
    )


def effective_channel(line: PayrollLine) -> tuple[str, ReceivingAccount | None]:
    """The channel and account `line` is paid through after its approved fixes."""
    fix = (
        LineFix.objects.filter(line=line, state=FixState.APPROVED)
        .select_related("account__institution")
        .order_by("-decided_at", "-id")
        .first()
    )
    if fix is None:
        return line.channel, line.account
    return fix.channel, fix.account


def _transfer_blocker(line: PayrollLine, kind: str) -> str | None:
    """A transfer of the line with the bank or credited (ansinh.disbursement) blocks a fix."""
    from ansinh.disbursement.resolution import transfer_blocker

    return transfer_blocker(line, kind)


# --- requesting ---------------------------------------------------------------------------------------


def _fix_text(fix: LineFix) -> dict:
    line = fix.line
    out = {
        "kind": fix.kind,
        "channel": fix.channel,
        "line": line.pk,
        "beneficiary": line.beneficiary.full_name,
        "amount": line.amount,
        "month": f"{line.cycle.month:%Y-%m}",
        "previous_channel": line.channel,
    }
    if fix.account is not None:
        out |= {"institution": fix.account.institution.code, "number": fix.account.masked_number}
    return out


@transaction.atomic
def request_fix(
    *, actor, line: PayrollLine, kind: str, account: ReceivingAccount | None = None, reason: str
) -> LineFix:
    """The office asks to pay an approved line another way this month (see the module)."""
    line = PayrollLine.objects.select_related("cycle", "beneficiary", "commune").get(pk=line.pk)
    if not access.can_in_area(actor, Cap.PAYROLL_PREPARE, line.commune):
        raise ValidationError(_("Your role does not allow asking for payment fixes here."))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Give the reason for the fix.")]
    if kind not in FixKind.values:
        errors["kind"] = [_("Choose the fix.")]
    if line.cycle.state not in FIXABLE_STATES or not PayrollApproval.objects.filter(cycle_id=line.cycle_id).exists():
        errors["line"] = [_("Only a line of an approved payroll that is not yet settled can be fixed.")]
    elif line.amount <= 0:
        errors["line"] = [_("A line with nothing to pay cannot be fixed.")]
    if LineFix.objects.filter(line=line, state=FixState.REQUESTED).exists():
        errors["line"] = [_("A fix of this line already awaits approval.")]
    if blocker := _transfer_blocker(line, kind):
        errors["line"] = [blocker]
    channel, current = effective_channel(line)
    if kind == FixKind.RESEND:
        if account is None:
            errors["account"] = [_("Choose the corrected account.")]
        else:
            account = ReceivingAccount.objects.select_related("institution").get(pk=account.pk)
            if account.beneficiary_id != line.beneficiary_id or account.status != AccountStatus.ACTIVE:
                errors["account"] = [_("Choose an active account of the beneficiary (or of the payee).")]
            elif channel == Channel.ACCOUNT and current is not None and current.pk == account.pk:
                errors["account"] = [_("The line is already paid to this account: choose the corrected one.")]
        new_channel = Channel.ACCOUNT
    else:
        if account is not None:
            errors["account"] = [_("A payment in cash has no account.")]
        if channel != Channel.ACCOUNT:
            errors["kind"] = [_("This line is already paid in cash.")]
        new_channel, account = Channel.PAY_POINT, None
    if errors:
        raise ValidationError(errors)
    fix = LineFix.objects.create(
        line=line,
        kind=kind,
        channel=new_channel,
        account=account,
        reason=reason,
        area_path=line.area_path,
        requested_by=actor,
    )
    record(actor=actor, action="payroll.fix.requested", obj=fix, area=line.commune, after=_fix_text(fix), note=reason)
    return fix


# --- deciding ---------------------------------------------------------------------------------------


def approval_blockers(actor, fix: LineFix) -> list[str]:
    if fix.state != FixState.REQUESTED:
        return [_("This fix has already been decided.")]
    out = []
    if not access.can_in_area(actor, Cap.PAYROLL_APPROVE, fix.line.commune):
        out.append(_("Your role does not allow approving payment fixes here."))
    if actor is not None and actor.pk == fix.requested_by_id:
        out.append(_("A fix is approved by a second person, never by the one who asked for it."))
    if fix.line.cycle.state not in FIXABLE_STATES:
        out.append(_("Only a line of an approved payroll that is not yet settled can be fixed."))
    if blocker := _transfer_blocker(fix.line, fix.kind):
        out.append(blocker)
    if fix.account is not None and fix.account.status != AccountStatus.ACTIVE:
        out.append(_("The account is no longer usable (%(status)s).") % {"status": fix.account.get_status_display()})
    return out


def _load(fix: LineFix, lock: bool = False) -> LineFix:
    qs = LineFix.objects.select_related(
        "line__cycle", "line__beneficiary", "line__commune", "account__institution", "requested_by"
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.get(pk=fix.pk)


def approve_fix(*, actor, fix: LineFix, token: str) -> LineFix:
    """A second person approves the fix with a current code of their device; the line is paid
    through the fix's channel (and account) from now on. The code is checked outside the
    transaction (django-otp's throttling counts a wrong code)."""
    fix = _load(fix)
    blockers = approval_blockers(actor, fix)
    if blockers:
        raise ValidationError(blockers)
    otp.require_code(
        actor, token, enrol_first=_("Enrol an authenticator app (your account page) before approving payment fixes.")
    )
    with transaction.atomic():
        fix = _load(fix, lock=True)
        blockers = approval_blockers(actor, fix)
        if blockers:
            raise ValidationError(blockers)
        fix.state = FixState.APPROVED
        fix.decided_by = actor
        fix.decided_at = timezone.now()
        fix.save(update_fields=["state", "decided_by", "decided_at"])
        record(
            actor=actor,
            action="payroll.fix.approved",
            obj=fix,
            area=fix.line.commune,
            after=_fix_text(fix) | {"requested_by": _user_name(fix.requested_by)},
        )
        from ansinh.disbursement.resolution import fix_approved

        fix_approved(fix, actor)
    return fix


@transaction.atomic
def reject_fix(*, actor, fix: LineFix, reason: str) -> LineFix:
    """An approver refuses the fix (with the reason); the line stays paid as it was."""
    fix = _load(fix, lock=True)
    reason = (reason or "").strip()
    if not access.can_in_area(actor, Cap.PAYROLL_APPROVE, fix.line.commune):
        raise ValidationError(_("Your role does not allow deciding on payment fixes here."))
    if fix.state != FixState.REQUESTED:
        raise ValidationError(_("This fix has already been decided."))
    if not reason:
        raise ValidationError({"reason": _("Say why the fix is rejected.")})
    fix.state = FixState.REJECTED
    fix.decided_by = actor
    fix.decided_at = timezone.now()
    fix.save(update_fields=["state", "decided_by", "decided_at"])
    record(
        actor=actor, action="payroll.fix.rejected", obj=fix, area=fix.line.commune, after=_fix_text(fix), note=reason
    )
    from ansinh.disbursement.resolution import fix_rejected

    fix_rejected(fix, actor)
    return fix
