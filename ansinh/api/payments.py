"""Payment methods, payees and receiving accounts over HTTP. Account numbers are masked unless
the user holds `payments.view_account` on the beneficiary's area. Another area's beneficiary is
a 404; a user who may see but not change it gets a 403."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.payments import queries, services
from ansinh.payments.models import AccountChange, AccountKind, CashReason, Institution, Method, ReceivingAccount

from .common import Id, responses, text
from .registry import _beneficiary

router = Router(tags=["payments"])


class PaymentMethodOut(Schema):
    id: int
    method: str
    cash_reason: str
    account_id: int | None
    account: str | None = Field(None, description="The receiving account, masked.")
    from_month: date
    cancelled: bool


class PaymentMethodIn(Schema):
    method: Method
    cash_reason: CashReason | None = None
    account_id: Id | None = None
    from_month: date | None = Field(None, description="First month (default: the next month).")


class AccountOut(Schema):
    id: int
    kind: str
    institution: str
    bin: str
    number: str = Field(..., description="Masked (•••• 1234) unless the user may see account numbers.")
    holder_name: str
    holder_representation_id: int | None
    name_score: int
    name_confirmed: bool
    status: str
    opened_on: date | None


class AccountIn(Schema):
    kind: AccountKind
    institution: str = text(max_length=20, description="Short code from the list of banks and wallets, e.g. VBA.")
    number: str = text(max_length=40, min_length=1)
    holder_name: str = text(max_length=150, min_length=1)
    holder_representation_id: Id | None = None
    opened_on: date | None = None


def _method(pm) -> dict:
    return {
        "id": pm.pk,
        "method": pm.method,
        "cash_reason": pm.cash_reason,
        "account_id": pm.account_id,
        "account": str(pm.account) if pm.account_id else None,
        "from_month": pm.from_month,
        "cancelled": pm.cancelled_at is not None,
    }


def _account(a: ReceivingAccount, full: bool) -> dict:
    return {
        "id": a.pk,
        "kind": a.kind,
        "institution": a.institution.code,
        "bin": a.institution.bin,
        "number": queries.shown_number(a, full),
        "holder_name": a.holder_name,
        "holder_representation_id": a.holder_representation_id,
        "name_score": a.name_score,
        "name_confirmed": a.name_confirmed_at is not None,
        "status": a.status,
        "opened_on": a.opened_on,
    }


@router.get(
    "/beneficiaries/{beneficiary_id}/payment-methods",
    response=responses({200: list[PaymentMethodOut]}, not_found=True),
)
def list_payment_methods(request, beneficiary_id: Id):
    """The payment-method history, latest month first (cancelled plans included, flagged)."""
    b = _beneficiary(request, beneficiary_id)
    return [_method(pm) for pm in queries.method_history(b)]


@router.post(
    "/beneficiaries/{beneficiary_id}/payment-methods",
    response=responses({201: PaymentMethodOut}, body=True, forbidden=True, not_found=True),
)
def set_payment_method(request, beneficiary_id: Id, payload: PaymentMethodIn):
    """Pay the beneficiary by a method from a month on (never a month that may be paid)."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    account = None
    if payload.account_id is not None:
        account = ReceivingAccount.objects.filter(beneficiary=b, pk=payload.account_id).first()
        if account is None:
            raise ValidationError({"account_id": _("This account cannot receive for the beneficiary.")})
    pm = services.set_payment_method(
        actor=request.auth,
        beneficiary=b,
        method=payload.method,
        cash_reason=payload.cash_reason or "",
        account=account,
        from_month=payload.from_month,
    )
    return Status(201, _method(pm))


@router.get(
    "/beneficiaries/{beneficiary_id}/receiving-accounts",
    response=responses({200: list[AccountOut]}, not_found=True),
)
def list_receiving_accounts(request, beneficiary_id: Id):
    """The beneficiary's receiving accounts; numbers masked for users without the capability."""
    b = _beneficiary(request, beneficiary_id)
    full = queries.number_visible(request.auth, b)
    return [_account(a, full) for a in queries.accounts_of(b)]


@router.post(
    "/beneficiaries/{beneficiary_id}/receiving-accounts",
    response=responses({201: AccountOut}, body=True, forbidden=True, not_found=True),
)
def register_receiving_account(request, beneficiary_id: Id, payload: AccountIn):
    """Record an account pending verification; the holder name is checked against the holder."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    institution = Institution.objects.filter(code=payload.institution, active=True).first()
    if institution is None:
        raise ValidationError({"institution": _("Unknown bank or wallet.")})
    holder = None
    if payload.holder_representation_id is not None:
        holder = b.representations.filter(pk=payload.holder_representation_id, ended_at__isnull=True).first()
        if holder is None:
            raise ValidationError(
                {"holder_representation_id": _("This representative does not act for the beneficiary.")}
            )
    account = services.register_account(
        actor=request.auth,
        beneficiary=b,
        kind=payload.kind,
        institution=institution,
        number=payload.number,
        holder_name=payload.holder_name,
        holder_representation=holder,
        opened_on=payload.opened_on,
    )
    account = get_object_or_404(queries.accounts_of(b), pk=account.pk)
    return Status(201, _account(account, queries.number_visible(request.auth, b)))


def _own_account(request, beneficiary_id: int, account_id: int):
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    return b, get_object_or_404(queries.accounts_of(b), pk=account_id)


@router.post(
    "/beneficiaries/{beneficiary_id}/receiving-accounts/{account_id}/confirm-name",
    response=responses({200: AccountOut}, forbidden=True, not_found=True),
)
def confirm_account_holder_name(request, beneficiary_id: Id, account_id: Id):
    """A person confirms that a weakly matching holder name is the right person."""
    b, account = _own_account(request, beneficiary_id, account_id)
    services.confirm_holder_name(actor=request.auth, account=account)
    account = get_object_or_404(queries.accounts_of(b), pk=account.pk)
    return Status(200, _account(account, queries.number_visible(request.auth, b)))


@router.post(
    "/beneficiaries/{beneficiary_id}/receiving-accounts/{account_id}/activate",
    response=responses({200: AccountOut}, forbidden=True, not_found=True),
)
def activate_receiving_account(request, beneficiary_id: Id, account_id: Id):
    """Activate a pending account whose holder name matches or was confirmed. It receives the
    money only through an approved account change."""
    b, account = _own_account(request, beneficiary_id, account_id)
    services.activate_account(actor=request.auth, account=account)
    account = get_object_or_404(queries.accounts_of(b), pk=account.pk)
    return Status(200, _account(account, queries.number_visible(request.auth, b)))


# --- changes of receiving account (second-person approval with a TOTP code) -----------------


class AccountChangeOut(Schema):
    id: int
    beneficiary_id: int
    account: AccountOut
    previous_account_id: int | None
    from_month: date
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str


class AccountChangeIn(Schema):
    account_id: Id
    from_month: date | None = Field(None, description="First month (default: the next month).")


class ApproveIn(Schema):
    token: str = text(max_length=10, min_length=1, description="A current code of the approver's authenticator app.")


class RejectIn(Schema):
    note: str = text(max_length=500, min_length=1, description="Why the change is rejected.")


def _name(user) -> str | None:
    return (user.full_name or user.username) if user is not None else None


def _change(c: AccountChange, user) -> dict:
    return {
        "id": c.pk,
        "beneficiary_id": c.beneficiary_id,
        "account": _account(c.account, queries.number_visible(user, c.beneficiary)),
        "previous_account_id": c.previous_account_id,
        "from_month": c.from_month,
        "status": c.status,
        "requested_by": _name(c.requested_by) or "",
        "requested_at": c.requested_at,
        "decided_by": _name(c.decided_by),
        "decided_at": c.decided_at,
        "decision_note": c.decision_note,
    }


def _awaiting(request, change_id: int) -> AccountChange:
    """An awaiting change the user may see (else 404) and decide on (else 403)."""
    change = get_object_or_404(queries.awaiting_changes_for(request.auth), pk=change_id)
    if not access.can_in_area(request.auth, Cap.PAYMENTS_APPROVE_ACCOUNT, change.beneficiary.audit_area):
        raise HttpError(403, _("Your role does not allow deciding on account changes in this area."))
    return change


@router.get("/account-changes", response=responses({200: list[AccountChangeOut]}))
def list_account_changes(request):
    """Changes of receiving account awaiting approval in the user's areas (oldest first, at most 500)."""
    rows = queries.awaiting_changes_for(request.auth)[:500]
    return [_change(c, request.auth) for c in rows]


@router.post(
    "/beneficiaries/{beneficiary_id}/account-changes",
    response=responses({201: AccountChangeOut}, body=True, forbidden=True, not_found=True),
)
def request_account_change(request, beneficiary_id: Id, payload: AccountChangeIn):
    """Ask that an account receive the money from a month; it waits for a second person's approval."""
    b = _beneficiary(request, beneficiary_id, Cap.REGISTRY_EDIT)
    account = ReceivingAccount.objects.filter(beneficiary=b, pk=payload.account_id).first()
    if account is None:
        raise ValidationError({"account_id": _("This account cannot receive for the beneficiary.")})
    change = services.request_account_change(
        actor=request.auth, beneficiary=b, account=account, from_month=payload.from_month
    )
    return Status(201, _change(queries.changes_for(request.auth).get(pk=change.pk), request.auth))


@router.post(
    "/account-changes/{change_id}/approve",
    response=responses({200: AccountChangeOut}, body=True, forbidden=True, not_found=True),
)
def approve_account_change(request, change_id: Id, payload: ApproveIn):
    """Approve with a current code of the approver's authenticator app (never the requester's own change)."""
    change = _awaiting(request, change_id)
    services.approve_account_changes(actor=request.auth, changes=[change], token=payload.token)
    return _change(queries.changes_for(request.auth).get(pk=change.pk), request.auth)


@router.post(
    "/account-changes/{change_id}/reject",
    response=responses({200: AccountChangeOut}, body=True, forbidden=True, not_found=True),
)
def reject_account_change(request, change_id: Id, payload: RejectIn):
    """Reject an awaiting change with the reason."""
    change = _awaiting(request, change_id)
    services.reject_account_change(actor=request.auth, change=change, note=payload.note)
    return _change(queries.changes_for(request.auth).get(pk=change.pk), request.auth)
