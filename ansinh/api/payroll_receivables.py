"""Receivables (overpayments to recover) over HTTP: the list of the user's areas (keyset pages),
one receivable, money recovered from the payee, a write-off asked for and approved by a second
person with a TOTP code. The rules live in `ansinh.payroll.receivables`; another area's
receivable is a 404, a step the role does not allow a 403, a refused step a 422."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.payroll import queries, receivables
from ansinh.payroll.models import Receivable, ReceivableState
from ansinh.payroll.services import TransitionForbidden

from .common import Id, responses, text

router = Router(tags=["payroll"])


class MonthAmount(Schema):
    month: str
    amount: int


class ReceivableOut(Schema):
    id: int
    beneficiary_id: int
    beneficiary: str
    programme: str
    representation_id: int | None
    debtor_name: str
    reason: str
    reason_label: str
    months: list[MonthAmount]
    amount: int
    recovered: int
    outstanding: int
    state: str
    state_label: str
    detected_in_id: int | None
    created_at: str


class ReceivablePage(Schema):
    items: list[ReceivableOut]
    next_after: int | None


StateValue = Literal["", "open", "recovered", "write_off_requested", "written_off"]
# the filter's values are the model's (checked here, so that a new state cannot be forgotten)
assert set(get_args(StateValue)) == {"", *ReceivableState.values}  # noqa: S101


class ReceivableFilters(Schema):
    state: StateValue = Field("", description="open, recovered, write_off_requested or written_off (empty: all)")
    after: int = Field(0, ge=0, description="The last id seen (keyset pages, newest first when 0).")
    limit: int = Field(100, ge=1, le=500)


class PayeeRecoveryIn(Schema):
    amount: int = Field(..., ge=1)
    on: date
    reference: str = text(..., min_length=1, max_length=60)


class ReasonIn(Schema):
    reason: str = text(..., min_length=1, max_length=2000)


class TokenIn(Schema):
    token: str = text(max_length=10, description="the current code of the approver's authenticator app")


def _readable(request):
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading payment cycles."))
    return queries._scoped(Receivable.objects.select_related("beneficiary", "programme"), request.auth)


def _out(r: Receivable) -> dict:
    return {
        "id": r.pk,
        "beneficiary_id": r.beneficiary_id,
        "beneficiary": r.beneficiary.full_name,
        "programme": r.programme.code,
        "representation_id": r.representation_id,
        "debtor_name": r.debtor_name,
        "reason": r.reason,
        "reason_label": str(r.get_reason_display()),
        "months": [
            {"month": str(m.get("month")), "amount": int(m.get("amount") or 0)}
            for m in r.months or []
            if isinstance(m, dict) and m.get("month")
        ],
        "amount": r.amount,
        "recovered": r.recovered,
        "outstanding": r.outstanding,
        "state": r.state,
        "state_label": str(r.get_state_display()),
        "detected_in_id": r.detected_in_id,
        "created_at": r.created_at.isoformat(),
    }


@router.get("/payroll/receivables", response=responses({200: ReceivablePage}, forbidden=True))
def list_receivables(request, filters: Query[ReceivableFilters]):
    """The receivables of the user's areas, by id (keyset: `after` = the last id seen)."""
    qs = _readable(request)
    if filters.state:
        qs = qs.filter(state=filters.state)
    rows = list(qs.filter(pk__gt=filters.after).order_by("pk")[: filters.limit])
    return {"items": [_out(r) for r in rows], "next_after": rows[-1].pk if len(rows) == filters.limit else None}


@router.get(
    "/payroll/receivables/{receivable_id}", response=responses({200: ReceivableOut}, forbidden=True, not_found=True)
)
def get_receivable(request, receivable_id: Id):
    return _out(get_object_or_404(_readable(request), pk=receivable_id))


def _target(request, receivable_id: int, cap: str) -> Receivable:
    r = get_object_or_404(_readable(request).select_related("beneficiary__commune"), pk=receivable_id)
    if not access.can_in_area(request.auth, cap, r.beneficiary.commune):
        raise HttpError(403, _("Your role does not allow settling receivables here."))
    return r


def _done(r: Receivable) -> dict:
    return _out(Receivable.objects.select_related("beneficiary", "programme").get(pk=r.pk))


@router.post(
    "/payroll/receivables/{receivable_id}/recovered",
    response=responses({200: ReceivableOut}, body=True, forbidden=True, not_found=True),
)
def post_recovered(request, receivable_id: Id, payload: PayeeRecoveryIn):
    """Money recovered from the payee (amount, date, reference); closes when fully recovered."""
    r = _target(request, receivable_id, Cap.PAYROLL_PREPARE)
    try:
        receivables.record_payee_recovery(
            actor=request.auth, receivable=r, amount=payload.amount, on=payload.on, reference=payload.reference
        )
    except TransitionForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _done(r)


@router.post(
    "/payroll/receivables/{receivable_id}/write-off",
    response=responses({200: ReceivableOut}, body=True, forbidden=True, not_found=True),
)
def post_write_off(request, receivable_id: Id, payload: ReasonIn):
    """Ask to write the receivable off (a second person approves)."""
    r = _target(request, receivable_id, Cap.PAYROLL_PREPARE)
    try:
        receivables.request_write_off(actor=request.auth, receivable=r, reason=payload.reason)
    except TransitionForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _done(r)


@router.post(
    "/payroll/receivables/{receivable_id}/write-off/approve",
    response=responses({200: ReceivableOut}, body=True, forbidden=True, not_found=True),
)
def post_write_off_approve(request, receivable_id: Id, payload: TokenIn):
    """Approve the write-off: payroll.approve, not the requester, with a current TOTP code."""
    r = _target(request, receivable_id, Cap.PAYROLL_APPROVE)
    receivables.approve_write_off(actor=request.auth, receivable=r, token=payload.token)
    return _done(r)
