"""Every write of payment methods, payees and receiving accounts. Keyword-only, an actor,
atomic, audited (account numbers appear in audit entries only masked).

A change takes effect from a month (default: the next month) and never touches a month that
may already be paid: until the payroll exists, every month before the current one counts as
paid (`first_open_month`). A change of payee follows one rule on every path
(`payee_change_month`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.services import build_event, record, record_many
from ansinh.core.bulk import insert_rows
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


def payee_change_months(beneficiaries, today: date | None = None) -> dict[int, date]:
    """The month from which a change of payee takes effect, per beneficiary pk — the one rule of
    the payee button and API, `designate_payee` without a month and the registry's writers
    (`payees.record_payee_changes`): from the next month for a beneficiary already paid (a
    payroll line exists: the current month may be in a payroll already); from the start month
    for one whose start month is in the future or who has not been paid yet (nothing paid, so
    every month from the start, arrears included, goes to the new payee). One query."""
    # the payroll builds on payments: its model is imported here, never at module level
    from ansinh.payroll.models import PayrollLine

    current, following = first_open_month(today), default_month(today)
    starts = {b.pk: month_start(b.start_month) for b in beneficiaries}
    started = [pk for pk, start in starts.items() if start <= current]
    paid: set[int] = set()
    if started:
        paid = set(
            PayrollLine.objects.filter(beneficiary_id__in=started)
            .order_by()
            .values_list("beneficiary_id", flat=True)
            .distinct()
        )
    return {pk: following if pk in paid else start for pk, start in starts.items()}


def payee_change_month(beneficiary: Beneficiary, today: date | None = None) -> date:
    """`payee_change_months` of one beneficiary."""
    return payee_change_months([beneficiary], today)[beneficiary.pk]


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
    """From `from_month` (default: `payee_change_month`), `representation`'s representative
    (None: the beneficiary) receives the money. A month may be chosen from the current month on,
    or from the start month for a beneficiary not paid yet. The registry's current-payee flag
    follows the latest designation."""
    _lock(beneficiary)
    rule = payee_change_month(beneficiary)
    if from_month is None:
        month = rule
    else:
        month = month_start(from_month)
        if month < min(rule, first_open_month()):
            raise ValidationError({"from_month": _("A month that may already be paid cannot be changed.")})
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


@dataclass(frozen=True)
class AccountInput:
    """One account for `register_accounts` (the arguments of `register_account`)."""

    beneficiary: Beneficiary
    kind: str
    institution: Institution
    number: str
    holder_name: str
    holder_representation: Representation | None = None
    opened_on: date | None = None


class AccountRowError(ValidationError):
    """A row of `register_accounts` that breaks a rule: `index` is its place in the list given."""

    def __init__(self, index: int, error: ValidationError):
        super().__init__(error.error_dict if hasattr(error, "error_dict") else error.error_list)
        self.index = index


ACCOUNT_CHUNK = 2000
LIVE_ACCOUNT = (AccountStatus.PENDING, AccountStatus.ACTIVE)


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
    holder name is compared with the holder's registered name (`register_accounts` of one row:
    one set of rules for the form, the API and the imports)."""
    row = AccountInput(beneficiary, kind, institution, number, holder_name, holder_representation, opened_on)
    try:
        (account,) = register_accounts(actor=actor, accounts=[row])
    except AccountRowError as exc:
        raise ValidationError(exc.error_dict) from exc
    return account


def _checked_account(row: AccountInput, today: date) -> tuple[str, str]:
    """(normalised number, holder name as the bank shows it) of a row, or a ValidationError."""
    if row.kind not in AccountKind.values:
        raise ValidationError({"kind": _("Choose the type of account.")})
    if not row.institution.active:
        raise ValidationError({"institution": _("This institution is no longer in use.")})
    value = check_number(institution=row.institution, kind=row.kind, number=row.number)
    holder = row.holder_representation
    if holder is not None and (holder.beneficiary_id != row.beneficiary.pk or holder.ended_at is not None):
        raise ValidationError({"holder_representation": _("This representative does not act for the beneficiary.")})
    shown = names.bank_form(row.holder_name)
    if not shown:
        raise ValidationError({"holder_name": _("Enter the holder name as the bank shows it.")})
    if row.opened_on and row.opened_on > today:
        raise ValidationError({"opened_on": _("The opening date cannot be in the future.")})
    return value, shown


@transaction.atomic
def register_accounts(*, actor, accounts: Sequence[AccountInput]) -> list[ReceivingAccount]:
    """Record many accounts, pending verification, all or nothing: every row is checked first
    (the number per institution, the holder, the holder name compared with the registered name;
    an account already recorded for the beneficiary and not closed or rejected, or given twice,
    is refused) and the first wrong row raises AccountRowError (its `index`). Numbers are
    encrypted with the MultiFernet and hashed with the keyed hash in one pass; per chunk one
    insert of the accounts and one of their audit events (numbers masked). The beneficiaries
    are locked (one query)."""
    today = timezone.localdate()
    ids = sorted({row.beneficiary.pk for row in accounts})
    list(Beneficiary.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    checked = []
    for index, row in enumerate(accounts):
        try:
            checked.append(_checked_account(row, today))
        except ValidationError as exc:
            raise AccountRowError(index, exc) from exc
    digests = crypto.hash_many([value for value, _shown in checked])
    live = set(
        ReceivingAccount.objects.filter(beneficiary_id__in=ids, number_hash__in=set(digests), status__in=LIVE_ACCOUNT)
        .order_by()
        .values_list("beneficiary_id", "number_hash")
    )
    for index, (row, digest) in enumerate(zip(accounts, digests, strict=True)):
        key = (row.beneficiary.pk, digest)
        if key in live:
            error = ValidationError({"number": _("This account is already recorded for the beneficiary.")})
            raise AccountRowError(index, error)
        live.add(key)
    encrypted = crypto.encrypt_many([value for value, _shown in checked])
    created_by = actor if getattr(actor, "pk", None) else None
    out: list[ReceivingAccount] = []
    for row, (value, shown), token, digest in zip(accounts, checked, encrypted, digests, strict=True):
        out.append(
            ReceivingAccount(
                beneficiary=row.beneficiary,
                holder_representation=row.holder_representation,
                kind=row.kind,
                institution=row.institution,
                number_encrypted=token,
                number_hash=digest,
                last4=value[-4:],
                holder_name=shown,
                name_score=names.name_score(shown, _holder_registered_name(row.beneficiary, row.holder_representation)),
                opened_on=row.opened_on,
                created_by=created_by,
            )
        )
    for start in range(0, len(out), ACCOUNT_CHUNK):
        chunk = insert_rows(ReceivingAccount, out[start : start + ACCOUNT_CHUNK])
        record_many(
            [
                build_event(
                    actor=actor,
                    action="payments.account.registered",
                    obj=account,
                    area=account.beneficiary.audit_area,
                    after={
                        "institution": account.institution.code,
                        "number": account.masked_number,
                        "holder_name": account.holder_name,
                        "name_score": account.name_score,
                    },
                )
                for account in chunk
            ]
        )
    return out


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
