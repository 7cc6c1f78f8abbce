"""Changes of receiving account, approved by a second person with a TOTP code, and the end of
accounts (closed, rejected). Reached through ansinh.payments.services.

The rule (issue 9): changing the account that receives the money is the classic fraud path, so
making an account the receiving one — a change of account, and the first account of someone paid
in cash until now — takes effect only when a user holding payments.approve_account on the
beneficiary's commune (or above), who neither asked for it nor recorded the account, approves it
with a current code of their authenticator app. `set_payment_method` refuses such a change; this
module is the only path. On approval a notice goes to the beneficiary's phone and to the phone of
the person who received the money until then (masked account number, never a category)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access, otp
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.registry.models import Beneficiary

from . import services
from .models import AccountChange, AccountStatus, ChangeStatus, Method, PaymentMethod, ReceivingAccount

RECEIVING = (AccountStatus.PENDING, AccountStatus.ACTIVE)


def _month_before(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def account_in_effect(beneficiary: Beneficiary, month: date) -> ReceivingAccount | None:
    from .queries import method_on

    pm = method_on([beneficiary.pk], month).get(beneficiary.pk)
    return pm.account if pm is not None and pm.method == Method.ACCOUNT else None


def _change_text(change: AccountChange) -> dict:
    out = {
        "institution": change.account.institution.code,
        "number": change.account.masked_number,
        "holder_name": change.account.holder_name,
        "from_month": change.from_month.isoformat(),
    }
    if change.previous_account_id:
        out["previous"] = str(change.previous_account)
    return out


@transaction.atomic
def request_account_change(
    *, actor, beneficiary: Beneficiary, account: ReceivingAccount, from_month: date | None = None
) -> AccountChange:
    services._lock(beneficiary)
    month = services._effective(from_month)
    account = ReceivingAccount.objects.select_related("institution").get(pk=account.pk)
    if account.beneficiary_id != beneficiary.pk or account.status not in RECEIVING:
        raise ValidationError({"account": _("This account cannot receive for the beneficiary.")})
    current = account_in_effect(beneficiary, month)
    if current is not None and current.pk == account.pk:
        raise ValidationError({"account": _("This account already receives the money in that month.")})
    waiting = AccountChange.objects.filter(beneficiary=beneficiary, status=ChangeStatus.AWAITING).first()
    if waiting is not None:
        raise ValidationError(
            {
                "account": _(
                    "A change of account for this beneficiary already awaits approval (%(account)s, asked by "
                    "%(user)s): it must be approved, rejected or withdrawn first."
                )
                % {"account": waiting.account, "user": _user_name(waiting.requested_by)}
            }
        )
    change = AccountChange.objects.create(
        beneficiary=beneficiary, account=account, previous_account=current, from_month=month, requested_by=actor
    )
    record(
        actor=actor,
        action="payments.account_change.requested",
        obj=change,
        area=beneficiary.audit_area,
        after=_change_text(change),
    )
    return change


def _user_name(user) -> str:
    if user is None:
        return _("the system")
    return getattr(user, "full_name", "") or user.get_username()


def approval_blockers(actor, change: AccountChange) -> list[str]:
    """Why `actor` may not approve `change` (empty: they may, given a valid code)."""
    out = []
    if change.status != ChangeStatus.AWAITING:
        out.append(_("This change has already been decided."))
        return out
    if not access.can_in_area(actor, Cap.PAYMENTS_APPROVE_ACCOUNT, change.beneficiary.audit_area):
        out.append(_("You may not approve account changes in this commune."))
    if actor is not None and actor.pk in (change.requested_by_id, change.account.created_by_id):
        out.append(
            _("A change is approved by a second person, never by the one who asked for it or recorded the account.")
        )
    account = change.account
    if account.status not in RECEIVING:
        out.append(_("The account is no longer usable (%(status)s).") % {"status": account.get_status_display()})
    elif account.status == AccountStatus.PENDING:
        out += services.activation_blockers(account)
    return out


def approve_account_changes(*, actor, changes: list[AccountChange], token: str) -> int:
    """Approve the awaiting `changes` with one current code of the approver's device; all or
    none. Each: the account is activated if pending, it receives the money from the change's
    month (moved to the first open month if that month has passed), later planned methods are
    cancelled, notices are queued. The code is checked outside the transaction, so a wrong code
    counts for django-otp's throttling even though nothing is written."""
    ids = [c.pk for c in changes]
    if not ids:
        raise ValidationError(_("Choose the changes to approve."))
    rows = list(
        AccountChange.objects.filter(pk__in=ids).select_related(
            "beneficiary__village", "beneficiary__commune", "account__institution"
        )
    )
    problems = []
    for change in rows:
        for reason in approval_blockers(actor, change):
            problems.append(f"{change.beneficiary.full_name} ({change.account}): {reason}")
    if problems:
        raise ValidationError(problems)
    otp.require_code(
        actor, token, enrol_first=_("Enrol an authenticator app (your account page) before approving account changes.")
    )
    with transaction.atomic():
        for change in rows:
            _approve(actor, change)
    return len(rows)


def _approve(actor, change: AccountChange) -> None:
    b = change.beneficiary
    services._lock(b)
    change = AccountChange.objects.select_for_update().select_related("account__institution").get(pk=change.pk)
    change.beneficiary = b
    blockers = approval_blockers(actor, change)
    if blockers:  # decided or changed since the list was read
        raise ValidationError(blockers)
    month = max(change.from_month, services.first_open_month())
    account = change.account
    if account.status == AccountStatus.PENDING:
        account = services.activate_account(actor=actor, account=account)
    from .queries import method_on

    before = method_on([b.pk], month).get(b.pk)
    services.write_method(
        actor=actor, beneficiary=b, method=Method.ACCOUNT, cash_reason="", account=account, month=month, before=before
    )
    change.set_status(ChangeStatus.APPROVED)
    change.from_month = month
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "from_month", "decided_by", "decided_at"])
    record(
        actor=actor,
        action="payments.account_change.approved",
        obj=change,
        area=b.audit_area,
        after=_change_text(change) | {"requested_by": _user_name(change.requested_by)},
    )
    _notify(actor, change, account)


def hotline(b: Beneficiary) -> str:
    """Whom a person calls about a change they did not ask for: ANSINH_HOTLINE if set, else the
    commune's people's committee."""
    return commune_hotline(b.commune)


def commune_hotline(commune) -> str:
    """Whom the people of `commune` call about a notice: ANSINH_HOTLINE if set, else the commune's
    people's committee."""
    configured = getattr(settings, "ANSINH_HOTLINE", "")
    return configured or f"UBND {commune.name}"[:60]


def _notify(actor, change: AccountChange, account: ReceivingAccount) -> None:
    """The notice of an approved change to the beneficiary's phone and to the phone of the person
    who received the money the month before (a representative, or the beneficiary): one message a
    phone, none without a phone. Sent after the commit (notifications.queue)."""
    from ansinh.notifications.services import queue

    from .queries import payee_on

    b = change.beneficiary
    variables = {
        "name": b.full_name,
        "institution": account.institution.name,
        "account": "***" + account.last4,  # masked; GSM characters only, so the SMS stays short
        "month": f"{change.from_month:%m/%Y}",
        "hotline": hotline(b),
    }
    previous = payee_on([b.pk], _month_before(change.from_month))[b.pk]
    sent: set[str] = set()
    if b.phone:
        queue(
            actor=actor,
            key="account.changed",
            variables=variables,
            idempotency_key=f"account-change-{change.pk}-beneficiary",
            beneficiary=b,
            area=b.audit_area,
        )
        sent.add(b.phone)
    if previous is not None:
        person = previous.representative
        if person.phone and person.phone not in sent:
            queue(
                actor=actor,
                key="account.changed",
                variables=variables,
                idempotency_key=f"account-change-{change.pk}-previous-payee",
                representative=person,
                area=b.audit_area,
            )


def _decide(actor, change: AccountChange, status: str, action: str, note: str = "") -> AccountChange:
    change = (
        AccountChange.objects.select_for_update()
        .select_related("account__institution", "beneficiary")
        .get(pk=change.pk)
    )
    change.set_status(status)
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.decision_note = note
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    record(
        actor=actor,
        action=action,
        obj=change,
        area=change.beneficiary.audit_area,
        after=_change_text(change),
        note=note,
    )
    return change


@transaction.atomic
def reject_account_change(*, actor, change: AccountChange, note: str) -> AccountChange:
    """An approver refuses the change (with the reason); the account stays as it was."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the change is rejected.")})
    if not access.can_in_area(actor, Cap.PAYMENTS_APPROVE_ACCOUNT, change.beneficiary.audit_area):
        raise ValidationError(_("You may not decide on account changes in this commune."))
    return _decide(actor, change, ChangeStatus.REJECTED, "payments.account_change.rejected", note)


@transaction.atomic
def withdraw_account_change(*, actor, change: AccountChange) -> AccountChange:
    """The person who asked for the change takes it back before it is decided."""
    if actor is None or change.requested_by_id != actor.pk:
        raise ValidationError(_("Only the person who asked for the change can withdraw it."))
    return _decide(actor, change, ChangeStatus.WITHDRAWN, "payments.account_change.withdrawn")


def _end_blockers(account: ReceivingAccount) -> list[str]:
    blockers = []
    first_open = services.first_open_month()
    if account_in_effect(account.beneficiary, first_open) == account:
        blockers.append(
            _(
                "This account receives the money in %(month)s: first set another payment method from that "
                "month, then close it."
            )
            % {"month": f"{first_open:%m/%Y}"}
        )
    else:
        later = (
            PaymentMethod.objects.filter(account=account, cancelled_at__isnull=True, from_month__gt=first_open)
            .order_by("from_month")
            .first()
        )
        if later is not None:
            blockers.append(
                _(
                    "This account is planned to receive the money from %(month)s: first set another payment method "
                    "from that month, then close it."
                )
                % {"month": f"{later.from_month:%m/%Y}"}
            )
    if AccountChange.objects.filter(account=account, status=ChangeStatus.AWAITING).exists():
        blockers.append(_("A change to this account awaits approval: it must be withdrawn or rejected first."))
    return blockers


def _end(actor, account: ReceivingAccount, status: str, action: str, reason: str) -> ReceivingAccount:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason.")})
    account = (
        ReceivingAccount.objects.select_for_update().select_related("institution", "beneficiary").get(pk=account.pk)
    )
    services._lock(account.beneficiary)
    before = account.status
    account.set_status(status)
    blockers = _end_blockers(account)
    if blockers:
        raise ValidationError(blockers)
    account.save(update_fields=["status", "updated_at"])
    record(
        actor=actor,
        action=action,
        obj=account,
        area=account.audit_area,
        before={"status": before},
        after={"status": status, "number": account.masked_number, "institution": account.institution.code},
        note=reason,
    )
    return account


@transaction.atomic
def close_account(*, actor, account: ReceivingAccount, reason: str) -> ReceivingAccount:
    """An active or pending account is closed (at the bank, or no longer to be used). Refused
    while it receives the money in an open month."""
    if account.status not in RECEIVING:
        raise ValidationError(_("Only an active or pending account can be closed."))
    return _end(actor, account, AccountStatus.CLOSED, "payments.account.closed", reason)


@transaction.atomic
def reject_account(*, actor, account: ReceivingAccount, reason: str) -> ReceivingAccount:
    """A pending account is refused (wrong number, not the person's account…)."""
    if account.status != AccountStatus.PENDING:
        raise ValidationError(_("Only an account pending verification can be rejected."))
    return _end(actor, account, AccountStatus.REJECTED, "payments.account.rejected", reason)
