"""Funding of the payment cycle over HTTP (issue 10 parts 5 and 6): the funding request of an
approved cycle (make, read, XLSX), the advances received from the treasury (list, record), and
the budget estimate of a year for an area. The rules live in ansinh.payroll.funding and
.budget; another area's cycle is a 404, a budget estimate outside the user's areas is empty."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.payroll import budget, funding, queries
from ansinh.payroll.models import Advance, FundingRequest, PaymentCycle
from ansinh.payroll.services import TransitionForbidden

from .common import Id, responses, text

router = Router(tags=["payroll"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BUDGET_CAPS = (Cap.PAYROLL_PREPARE, Cap.PAYROLL_APPROVE, Cap.REPORTS_VIEW)


class FundingRequestIn(Schema):
    number: str = text(max_length=60, default="", description="The number of the request, e.g. 12/ĐNTƯ")


class FundingRequestOut(Schema):
    cycle_id: int
    number: str
    per_channel: dict[str, Any] = Field(..., description="Totals per channel and per line type, the fee's note.")
    allowances_total: int
    fee_total: int
    total: int
    content_hash: str
    requested_at: datetime
    advances_total: int
    missing: int


class AdvanceIn(Schema):
    amount: int = Field(..., gt=0, le=10**15, description="Whole đồng.")
    received_on: date
    reference: str = text(max_length=60, min_length=1, description="The treasury's reference.")


class AdvanceOut(Schema):
    id: int
    amount: int
    received_on: date
    reference: str
    recorded_at: datetime


class AdvanceResultOut(Schema):
    advance: AdvanceOut
    created: bool
    funded: bool
    shortfall: int
    message: str


class BudgetFilter(Schema):
    year: int | None = Field(None, ge=2000, le=2100, description="The year estimated (default: next year).")
    area_id: int | None = Field(None, ge=1, description="A province, district or commune (default: the user's).")


class BudgetOut(Schema):
    year: int
    as_of: str
    area: dict[str, Any] | None
    mortality_per_mille: int
    programmes: dict[str, Any]
    rows: list[dict[str, Any]]
    totals: dict[str, int]
    per_month: list[dict[str, Any]]


def _cycle(request, cycle_id: int) -> PaymentCycle:
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading payment cycles."))
    return get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)


def _prepare(request, cycle: PaymentCycle) -> None:
    if not access.can_in_area(request.auth, Cap.PAYROLL_PREPARE, cycle.area):
        raise HttpError(403, _("Your role does not allow preparing the payroll here."))


def _request_out(r: FundingRequest) -> dict:
    received = funding.advanced_total(r.cycle)
    return {
        "cycle_id": r.cycle_id,
        "number": r.number,
        "per_channel": r.per_channel,
        "allowances_total": r.allowances_total,
        "fee_total": r.fee_total,
        "total": r.total,
        "content_hash": r.content_hash,
        "requested_at": r.requested_at,
        "advances_total": received,
        "missing": max(r.total - received, 0),
    }


def _advance_out(a: Advance) -> dict:
    return {
        "id": a.pk,
        "amount": a.amount,
        "received_on": a.received_on,
        "reference": a.reference,
        "recorded_at": a.recorded_at,
    }


@router.post(
    "/payroll/cycles/{cycle_id}/funding-request",
    response=responses({200: FundingRequestOut}, body=True, forbidden=True, not_found=True),
)
def post_funding_request(request, cycle_id: Id, payload: FundingRequestIn):
    """Make the funding request of an approved cycle (payroll.prepare in its area); made once,
    the same request is returned again. 422 with the reason when the cycle is not approved."""
    cycle = _cycle(request, cycle_id)
    _prepare(request, cycle)
    try:
        made = funding.make_funding_request(actor=request.auth, cycle=cycle, number=payload.number)
    except TransitionForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _request_out(made)


@router.get(
    "/payroll/cycles/{cycle_id}/funding-request",
    response=responses({200: FundingRequestOut}, forbidden=True, not_found=True),
)
def get_funding_request(request, cycle_id: Id):
    cycle = _cycle(request, cycle_id)
    return _request_out(get_object_or_404(FundingRequest.objects.select_related("cycle"), cycle=cycle))


@router.get(
    "/payroll/cycles/{cycle_id}/funding-request/xlsx",
    response=responses({200: None}, forbidden=True, not_found=True),
    openapi_extra={"responses": {"200": {"description": "The funding request (XLSX)", "content": {XLSX: {}}}}},
)
def get_funding_request_xlsx(request, cycle_id: Id):
    """The funding request as an XLSX document (no personal data); audited as an export."""
    cycle = _cycle(request, cycle_id)
    r = get_object_or_404(FundingRequest.objects.select_related("cycle"), cycle=cycle)
    response = HttpResponse(content_type=XLSX)
    funding.funding_request_xlsx(r, actor=request.auth, out=response)
    response["Content-Disposition"] = f'attachment; filename="{funding.file_name(r)}"'
    return response


@router.get(
    "/payroll/cycles/{cycle_id}/advances",
    response=responses({200: list[AdvanceOut]}, forbidden=True, not_found=True),
)
def list_advances(request, cycle_id: Id):
    cycle = _cycle(request, cycle_id)
    return [_advance_out(a) for a in Advance.objects.filter(cycle=cycle).order_by("received_on", "pk")]


@router.post(
    "/payroll/cycles/{cycle_id}/advances",
    response=responses({200: AdvanceResultOut}, body=True, forbidden=True, not_found=True),
)
def post_advance(request, cycle_id: Id, payload: AdvanceIn):
    """Record an advance received from the treasury (payroll.prepare). When the advances cover
    the funding request, the cycle becomes funded; otherwise `message` names the shortfall. The
    same reference again: harmless when identical, 422 when different."""
    cycle = _cycle(request, cycle_id)
    _prepare(request, cycle)
    try:
        result = funding.record_advance(
            actor=request.auth,
            cycle=cycle,
            amount=payload.amount,
            received_on=payload.received_on,
            reference=payload.reference,
        )
    except TransitionForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return {
        "advance": _advance_out(result.advance),
        "created": result.created,
        "funded": result.funded,
        "shortfall": result.shortfall,
        "message": result.message,
    }


def _empty(year: int) -> dict:
    return {
        "year": year,
        "as_of": f"{timezone.localdate():%Y-%m}",
        "area": None,
        "mortality_per_mille": 0,
        "programmes": {},
        "rows": [],
        "totals": {"beneficiaries": 0, "allowances": 0, "funeral": 0, "fees": 0, "total": 0},
        "per_month": [],
    }


@router.get("/payroll/budget", response=responses({200: BudgetOut}, forbidden=True))
def get_budget(request, filters: Query[BudgetFilter]):
    """The budget estimate (dự toán) of a year for an area: rows per programme and area one
    level down, monthly allowances, funeral support, fees, totals, per month and quarter. For the
    roles with payroll.prepare, payroll.approve or reports.view in that area; elsewhere empty."""
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading payment cycles."))
    year = filters.year or timezone.localdate().year + 1
    user = request.auth
    if filters.area_id is not None:
        area = Area.objects.filter(pk=filters.area_id).first()
    else:
        tops = [a for cap in BUDGET_CAPS for a in access.top_areas(user, cap)]
        area = tops[0] if tops else None
    if area is None or not any(access.can_in_area(user, cap, area) for cap in BUDGET_CAPS):
        return _empty(year)
    return budget.budget_estimate(area=area, year=year)
