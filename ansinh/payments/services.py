"""Every write of payment methods, payees and receiving accounts. Keyword-only, an actor,
atomic, audited (account numbers appear in audit entries only masked).

A change takes effect from a month (default: the next month) and never touches a month that
may already be paid: until the payroll exists, every month before the current one counts as
paid (`first_open_month`)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.services import record
from ansinh.policy.entitlement import month_start
from ansinh.registry import services as registry_services
from ansinh.registry.models import Beneficiary, Representation

from . import crypto, names, payees
from .models import (
    AccountChange,
    AccountKind,
    AccountStatus,
    CashReason,
    Institution,
    InstitutionKind,
    Method,
    PayeeDesignation,
    PaymentMethod,
    ReceivingAccount,
)


def first_open_month(today: date | None = None) -> date:
    """The first month a change may still take effect from (payroll will move it forward to
    the first month without an approved payroll)."""
    return month_start(today or timezone.localdate())


def default_month(today: date | None = None) -> date:
    current = first_open_month(today)
    return date(current.year + current.month // 12, current.month % 12 + 1, 1)


def _effective(from_month: date | None, field: str = "from_month") -> date:
    if from_month is None:
        return default_month()
    month = month_start(from_month)
    if month < first_open_month():
        raise ValidationError({field: _("A month that may already be paid cannot be changed.")})
    return month


def _lock(beneficiary: Beneficiary) -> None:
    Beneficiary.objects.select_for_update().filter(pk=beneficiary.pk).first()


def _method_text(pm: PaymentMethod | None) -> dict:
    if pm is None:
        return {}
    out = {"method": pm.method, "from_month": pm.from_month.isoformat()}
    if pm.cash_reason:
        out["cash_reason"] = pm.cash_reason
    if pm.account_id:
        out["account"] = str(pm.account)
    return out


@transaction.atomic
def set_payment_method(
    *,
    actor,
    beneficiary: Beneficiary,
    method: str,
    cash_reason: str = "",
    account: ReceivingAccount | None = None,
    from_month: date | None = None,
) -> PaymentMethod:
    """The beneficiary is paid by `method` from `from_month` on. Planned changes from that month
    or later are cancelled (kept in the history).

    An account that is not already the one in effect that month is refused: making an account
    receive the money (a change of account, or the first account of someone paid in cash) goes
    through `request_account_change` and a second person's approval."""
    _lock(beneficiary)
    month = _effective(from_month)
    errors: dict[str, str] = {}
    if method not in Method.values:
        errors["method"] = _("Choose a payment method.")
    elif method == Method.ACCOUNT:
        cash_reason = ""
        if account is None:
            errors["account"] = _("Choose the receiving account.")
        elif account.beneficiary_id != beneficiary.pk or account.status not in (
            AccountStatus.PENDING,
            AccountStatus.ACTIVE,
        ):
            errors["account"] = _("This account cannot receive for the beneficiary.")
    else:
        account = None
        if cash_reason not in CashReason.values:
            errors["cash_reason"] = _("Give the reason for paying in cash.")
    if errors:
        raise ValidationError(errors)
    from .queries import method_on

    before = method_on([beneficiary.pk], month).get(beneficiary.pk)
    if method == Method.ACCOUNT and not (before and before.method == Method.ACCOUNT and before.account == account):
        raise ValidationError(
            {
                "account": _(
                    "A new receiving account needs the approval of a second person: request the change of "
                    "account (it waits for approval with a second factor before it takes effect)."
                )
            }
        )
    return write_method(
        actor=actor,
        beneficiary=beneficiary,
        method=method,
        cash_reason=cash_reason,
        account=account,
        month=month,
        before=before,
    )


def write_method(
    *,
    actor,
    beneficiary: Beneficiary,
    method: str,
    cash_reason: str,
    account: ReceivingAccount | None,
    month: date,
    before: PaymentMethod | None,
) -> PaymentMethod:
    """Write a checked method row from `month` (the caller holds the beneficiary's lock and has
    applied the rules: `set_payment_method`, or an approved account change)."""
    now = timezone.now()
    PaymentMethod.objects.filter(beneficiary=beneficiary, from_month__gte=month, cancelled_at__isnull=True).update(
        cancelled_at=now
    )
    pm = PaymentMethod.objects.create(
        beneficiary=beneficiary,
        method=method,
        cash_reason=cash_reason,
        account=account,
        from_month=month,
        created_by=actor,
    )
    record(
        actor=actor,
        action="payments.method.changed",
        obj=beneficiary,
        area=beneficiary.audit_area,
        before=_method_text(before),
        after=_method_text(pm),
    )
    return pm


@transaction.atomic
def designate_payee(
    *, actor, beneficiary: Beneficiary, representation: Representation | None, from_month: date | None = None
) -> PayeeDesignation:
    """From `from_month`, `representation`'s representative (None: the beneficiary) receives the
    money. The registry's current-payee flag follows the latest designation."""
    _lock(beneficiary)
    month = _effective(from_month)
    if representation is not None and (
        representation.beneficiary_id != beneficiary.pk or representation.ended_at is not None
    ):
        raise ValidationError({"representation": _("This representative does not act for the beneficiary.")})
    from .queries import payee_on

    before = payee_on([beneficiary.pk], month).get(beneficiary.pk)
    # a payee known only by the registry flag starts the history (payees.baseline)
    flagged = Representation.objects.filter(beneficiary=beneficiary, is_payee=True, ended_at__isnull=True).first()
    PayeeDesignation.objects.bulk_create(
        payees.baseline(actor=actor, beneficiaries=[(beneficiary, flagged)], month=month)
    )
    PayeeDesignation.objects.filter(beneficiary=beneficiary, from_month__gte=month, cancelled_at__isnull=True).update(
        cancelled_at=timezone.now()
    )
    designation = PayeeDesignation.objects.create(
        beneficiary=beneficiary, representation=representation, from_month=month, created_by=actor
    )
    registry_services.set_payee(actor=actor, beneficiary=beneficiary, representation=representation)
    record(
        actor=actor,
        action="payments.payee.designated",
        obj=beneficiary,
        area=beneficiary.audit_area,
        before={"payee": before.representative.full_name if before else beneficiary.full_name},
        after={
            "payee": representation.representative.full_name if representation else beneficiary.full_name,
            "from_month": month.isoformat(),
        },
    )
    return designation


def check_number(*, institution: Institution, kind: str, number: str) -> str:
    """The number normalised, or a ValidationError naming what is wrong."""
    value = crypto.normalize_number(number)
    if not value.isdigit():
        raise ValidationError({"number": _("An account number has digits only.")})
    if not institution.number_min_length <= len(value) <= institution.number_max_length:
        raise ValidationError(
            {
                "number": _("%(name)s account numbers have %(low)s to %(high)s digits.")
                % {
                    "name": institution.name,
                    "low": institution.number_min_length,
                    "high": institution.number_max_length,
                }
            }
        )
    wallet = institution.kind == InstitutionKind.WALLET
    if wallet != (kind == AccountKind.WALLET):
        raise ValidationError({"institution": _("This institution does not offer this type of account.")})
    return value


def _holder_registered_name(beneficiary: Beneficiary, holder: Representation | None) -> str:
    return holder.representative.full_name if holder else beneficiary.full_name


@transaction.atomic
def register_account(
    *,
    actor,
    beneficiary: Beneficiary,
    kind: str,
    institution: Institution,
    number: str,
    holder_name: str,
    holder_representation: Representation | None = None,
    opened_on: date | None = None,
) -> ReceivingAccount:
    """Record an account that is to receive for the beneficiary, pending verification; the
    holder name is compared with the holder's registered name."""
    _lock(beneficiary)
    if kind not in AccountKind.values:
        raise ValidationError({"kind": _("Choose the type of account.")})
    if not institution.active:
        raise ValidationError({"institution": _("This institution is no longer in use.")})
    value = check_number(institution=institution, kind=kind, number=number)
    if holder_representation is not None and (
        holder_representation.beneficiary_id != beneficiary.pk or holder_representation.ended_at is not None
    ):
        raise ValidationError({"holder_representation": _("This representative does not act for the beneficiary.")})
    shown = names.bank_form(holder_name)
    if not shown:
        raise ValidationError({"holder_name": _("Enter the holder name as the bank shows it.")})
    if opened_on and opened_on > timezone.localdate():
        raise ValidationError({"opened_on": _("The opening date cannot be in the future.")})
    score = names.name_score(shown, _holder_registered_name(beneficiary, holder_representation))
    account = ReceivingAccount.objects.create(
        beneficiary=beneficiary,
        holder_representation=holder_representation,
        kind=kind,
        institution=institution,
        number_encrypted=crypto.encrypt(value),
        number_hash=crypto.number_hash(value),
        last4=value[-4:],
        holder_name=shown,
        name_score=score,
        opened_on=opened_on,
        created_by=actor,
    )
    record(
        actor=actor,
        action="payments.account.registered",
        obj=account,
        area=beneficiary.audit_area,
        after={
            "institution": institution.code,
            "number": account.masked_number,
            "holder_name": shown,
            "name_score": score,
        },
    )
    return account


@transaction.atomic
def confirm_holder_name(*, actor, account: ReceivingAccount) -> ReceivingAccount:
    """A person has checked that a weakly matching holder name is the right person."""
    account = ReceivingAccount.objects.select_for_update().get(pk=account.pk)
    if account.name_confirmed_at is None:
        account.name_confirmed_by = actor
        account.name_confirmed_at = timezone.now()
        account.save(update_fields=["name_confirmed_by", "name_confirmed_at", "updated_at"])
        record(
            actor=actor,
            action="payments.account.name_confirmed",
            obj=account,
            area=account.audit_area,
            after={"holder_name": account.holder_name, "name_score": account.name_score},
        )
    return account


def activation_blockers(account: ReceivingAccount) -> list[str]:
    blockers = []
    if account.status != AccountStatus.PENDING:
        blockers.append(_("Only an account pending verification can be activated."))
    if not names.is_strong(account.name_score) and account.name_confirmed_at is None:
        blockers.append(_("The holder name does not match the registered name: a person must confirm it first."))
    return blockers


@transaction.atomic
def activate_account(*, actor, account: ReceivingAccount) -> ReceivingAccount:
    account = ReceivingAccount.objects.select_for_update().get(pk=account.pk)
    blockers = activation_blockers(account)
    if blockers:
        raise ValidationError(blockers)
    account.set_status(AccountStatus.ACTIVE)
    account.save(update_fields=["status", "updated_at"])
    record(
        actor=actor,
        action="payments.account.activated",
        obj=account,
        area=account.audit_area,
        before={"status": AccountStatus.PENDING},
        after={"status": AccountStatus.ACTIVE},
    )
    return account


@transaction.atomic
def load_institutions(*, actor, entries: list[dict]) -> dict:
    """Create or update the banks and wallets from policy.yaml `banks.list` (by short code);
    lengths and the in-use flag that admins set are kept."""
    created = updated = 0
    for entry in entries:
        kind = InstitutionKind.WALLET if entry.get("wallet") else InstitutionKind.BANK
        defaults = {"bin": str(entry["bin"]), "name": str(entry["name"]), "kind": kind}
        obj, was_created = Institution.objects.get_or_create(code=str(entry["code"]), defaults=defaults)
        if was_created:
            if kind == InstitutionKind.WALLET:
                obj.number_min_length = obj.number_max_length = 10  # wallets are keyed by a phone number
                obj.save(update_fields=["number_min_length", "number_max_length"])
            created += 1
        elif any(getattr(obj, k) != v for k, v in defaults.items()):
            Institution.objects.filter(pk=obj.pk).update(**defaults)
            updated += 1
    if created or updated:
        record(actor=actor, action="payments.institutions.loaded", after={"created": created, "updated": updated})
    return {"created": created, "updated": updated, "total": len(entries)}


# --- account changes and the end of accounts (ansinh.payments.approvals) -------------------------


def request_account_change(
    *, actor, beneficiary: Beneficiary, account: ReceivingAccount, from_month: date | None = None
) -> AccountChange:
    """Ask that `account` receive the beneficiary's money from `from_month` (default: the next
    month); it waits for a second person's approval (`approve_account_changes`)."""
    from . import approvals

    return approvals.request_account_change(
        actor=actor, beneficiary=beneficiary, account=account, from_month=from_month
    )


def approve_account_changes(*, actor, changes: list[AccountChange], token: str) -> int:
    """Approve awaiting changes with one TOTP code of the approver; returns how many."""
    from . import approvals

    return approvals.approve_account_changes(actor=actor, changes=changes, token=token)


def reject_account_change(*, actor, change: AccountChange, note: str) -> AccountChange:
    from . import approvals

    return approvals.reject_account_change(actor=actor, change=change, note=note)


def withdraw_account_change(*, actor, change: AccountChange) -> AccountChange:
    from . import approvals

    return approvals.withdraw_account_change(actor=actor, change=change)


def close_account(*, actor, account: ReceivingAccount, reason: str) -> ReceivingAccount:
    from . import approvals

    return approvals.close_account(actor=actor, account=account, reason=reason)


def reject_account(*, actor, account: ReceivingAccount, reason: str) -> ReceivingAccount:
    from . import approvals

    return approvals.reject_account(actor=actor, account=account, reason=reason)
