"""Reads: the method and payee of many beneficiaries in a month (set-based, for the payroll),
histories and accounts, and who may see a full account number."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import OuterRef, QuerySet, Subquery

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.policy.entitlement import month_start
from ansinh.registry.models import Beneficiary, Representation

from . import crypto
from .models import AccountChange, ChangeStatus, PayeeDesignation, PaymentMethod, ReceivingAccount


def _in_effect(model, beneficiaries, month: date) -> QuerySet:
    """For each beneficiary, the row in effect in `month`: the latest not cancelled from a month
    on or before it. One query, whatever the number of beneficiaries."""
    latest = (
        model.objects.filter(beneficiary=OuterRef("beneficiary"), from_month__lte=month, cancelled_at__isnull=True)
        .order_by("-from_month", "-id")
        .values("pk")[:1]
    )
    return model.objects.filter(beneficiary__in=beneficiaries, pk=Subquery(latest))


def method_on(beneficiaries: Iterable[int] | QuerySet, month: date) -> dict[int, PaymentMethod]:
    """beneficiary id → the PaymentMethod in effect in `month` (absent: none chosen yet)."""
    rows = _in_effect(PaymentMethod, beneficiaries, month_start(month)).select_related("account__institution")
    return {pm.beneficiary_id: pm for pm in rows}


def payee_on(beneficiaries: Iterable[int] | QuerySet, month: date) -> dict[int, Representation | None]:
    """beneficiary id → the representation whose representative receives the money in `month`,
    or None when the beneficiary receives it. Before a beneficiary's first designation, the
    registry's current-payee flag stands (data registered before designations existed)."""
    month = month_start(month)
    ids = (
        list(beneficiaries.values_list("pk", flat=True)) if isinstance(beneficiaries, QuerySet) else list(beneficiaries)
    )
    out: dict[int, Representation | None] = {}
    for d in _in_effect(PayeeDesignation, ids, month).select_related("representation__representative"):
        out[d.beneficiary_id] = d.representation
    designated = set(PayeeDesignation.objects.filter(beneficiary__in=ids).values_list("beneficiary_id", flat=True))
    rest = [i for i in ids if i not in designated]
    flags = Representation.objects.filter(beneficiary__in=rest, is_payee=True, ended_at__isnull=True)
    for link in flags.select_related("representative"):
        out[link.beneficiary_id] = link
    for i in ids:
        out.setdefault(i, None)
    return out


def method_history(beneficiary: Beneficiary) -> QuerySet:
    return PaymentMethod.objects.filter(beneficiary=beneficiary).select_related("account__institution", "created_by")


def payee_history(beneficiary: Beneficiary) -> QuerySet:
    return PayeeDesignation.objects.filter(beneficiary=beneficiary).select_related(
        "representation__representative", "created_by"
    )


def accounts_of(beneficiary: Beneficiary) -> QuerySet:
    return ReceivingAccount.objects.filter(beneficiary=beneficiary).select_related(
        "institution", "holder_representation__representative"
    )


def find_accounts(number: str) -> QuerySet:
    """Accounts with this number (any institution), found through the keyed hash."""
    return ReceivingAccount.objects.filter(number_hash=crypto.number_hash(number))


def number_visible(user, beneficiary: Beneficiary) -> bool:
    """Whether `user` may read the full account numbers of this beneficiary's accounts."""
    return access.can_in_area(user, Cap.PAYMENTS_VIEW_ACCOUNT, beneficiary.audit_area)


def shown_number(account: ReceivingAccount, full: bool) -> str:
    return crypto.decrypt(account.number_encrypted) if full else account.masked_number


def changes_for(user, cap: str = Cap.REGISTRY_VIEW) -> QuerySet[AccountChange]:
    """Account changes of the beneficiaries in the user's areas for `cap`."""
    qs = AccountChange.objects.select_related(
        "beneficiary__commune",
        "beneficiary__village",
        "account__institution",
        "account__holder_representation__representative",
        "account__created_by",
        "previous_account__institution",
        "requested_by",
        "decided_by",
    )
    return access.scope(qs, user, cap, path_field="beneficiary__area_path")


def awaiting_changes_for(user, cap: str = Cap.REGISTRY_VIEW) -> QuerySet[AccountChange]:
    return changes_for(user, cap).filter(status=ChangeStatus.AWAITING).order_by("requested_at", "id")


def awaiting_change_of(beneficiary: Beneficiary) -> AccountChange | None:
    return (
        AccountChange.objects.filter(beneficiary=beneficiary, status=ChangeStatus.AWAITING)
        .select_related("account__institution", "requested_by")
        .first()
    )
