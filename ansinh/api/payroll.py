"""Payment cycles over HTTP: the cycles of the user's areas (filters, pages), one cycle with its
deadlines and the steps the user may take, a step (transition), and the provider contracts.
The rules live in `ansinh.payroll`; another area's cycle is a 404."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ansinh.areas.models import Area
from ansinh.payroll import queries
from ansinh.payroll.models import TRANSITIONS, PaymentCycle, ProviderContract
from ansinh.payroll.services import TransitionForbidden, may_move, transition

from .common import Id, responses, text

router = Router(tags=["payroll"])

PAGE_SIZE = 100
StateValue = Literal[
    "open",
    "changes_submitted",
    "appraised",
    "payroll_generated",
    "approved",
    "funded",
    "sent_to_provider",
    "paying",
    "settled",
    "closed",
]
MONTH = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"


class DeadlineOut(Schema):
    kind: str
    kind_label: str
    due_date: date
    done_at: datetime | None
    overdue: bool


class CycleOut(Schema):
    id: int
    month: date = Field(..., description="The first day of the month the allowance is for.")
    programme: str
    approving_unit_id: int
    approving_unit: str
    area_id: int
    state: StateValue
    state_label: str
    next_deadline: DeadlineOut | None


class CycleDetailOut(CycleOut):
    deadlines: list[DeadlineOut]
    allowed_transitions: list[StateValue] = Field(..., description="The steps the token's user may take now.")


class CyclePage(Schema):
    items: list[CycleOut]
    count: int
    page: int
    pages: int


class CycleFilters(Schema):
    month: str | None = Field(None, pattern=MONTH, description="YYYY-MM: the month the allowance is for")
    state: StateValue | None = None
    area_id: Id | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class TransitionIn(Schema):
    to_state: StateValue
    note: str = text("", max_length=2000)


class ContractOut(Schema):
    id: int
    number: str
    paying_unit_id: int
    paying_unit: str
    provider_id: int
    provider: str
    purpose: Literal["regular", "funeral_emergency"]
    valid_from: date
    valid_to: date
    channels: list[str]
    fee_kind: Literal["flat", "percent"]
    fee_flat: int = Field(..., description="đồng per beneficiary paid per month (flat rule)")
    fee_basis_points: int = Field(..., description="of the amount paid (percent rule); 150 = 1.5 %")
    transfer_day: int
    payment_day: int
    settlement_day: int
    area_ids: list[int]


class ContractPage(Schema):
    items: list[ContractOut]
    count: int
    page: int
    pages: int


class PageFilter(Schema):
    page: int = Field(1, ge=1, le=1_000_000)


def _reader(request) -> None:
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading payment cycles."))


def _deadline(d, today: date) -> dict:
    return {
        "kind": d.kind,
        "kind_label": str(d.get_kind_display()),
        "due_date": d.due_date,
        "done_at": d.done_at,
        "overdue": d.done_at is None and d.due_date < today,
    }


def _cycle(c: PaymentCycle, next_deadline, today: date) -> dict:
    return {
        "id": c.pk,
        "month": c.month,
        "programme": c.programme.code,
        "approving_unit_id": c.approving_unit_id,
        "approving_unit": str(c.approving_unit),
        "area_id": c.area_id,
        "state": c.state,
        "state_label": str(c.get_state_display()),
        "next_deadline": _deadline(next_deadline, today) if next_deadline else None,
    }


def _detail(user, c: PaymentCycle) -> dict:
    today = timezone.localdate()
    deadlines = list(c.deadlines.order_by("due_date", "kind"))
    following = next((d for d in deadlines if d.done_at is None), None)
    return _cycle(c, following, today) | {
        "deadlines": [_deadline(d, today) for d in deadlines],
        "allowed_transitions": [to for to in TRANSITIONS.get(c.state, {}) if may_move(user, c, to)],
    }


def _pages(count: int) -> int:
    return max(1, math.ceil(count / PAGE_SIZE))


@router.get("/payroll/cycles", response=responses({200: CyclePage}, forbidden=True))
def list_cycles(request, filters: Query[CycleFilters]):
    """The payment cycles of the user's areas, newest month first, 100 a page."""
    _reader(request)
    qs = queries.cycles_for(request.auth).order_by("-month", "area_path", "approving_unit__name", "programme__code")
    # the area only narrows the user's own cycles: another area's id finds nothing, as a filter should
    area = Area.objects.filter(pk=filters.area_id).first() if filters.area_id else None
    if filters.area_id and area is None:
        qs = qs.none()
    month = date(int(filters.month[:4]), int(filters.month[5:7]), 1) if filters.month else None
    qs = queries.filter_cycles(qs, month=month, state=filters.state or "", area=area)
    count = qs.count()
    start = (filters.page - 1) * PAGE_SIZE
    rows = list(qs[start : start + PAGE_SIZE])
    nexts = queries.next_deadlines([c.pk for c in rows])
    today = timezone.localdate()
    return {
        "items": [_cycle(c, nexts.get(c.pk), today) for c in rows],
        "count": count,
        "page": filters.page,
        "pages": _pages(count),
    }


@router.get("/payroll/cycles/{cycle_id}", response=responses({200: CycleDetailOut}, forbidden=True, not_found=True))
def get_cycle(request, cycle_id: Id):
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    return _detail(request.auth, cycle)


@router.post(
    "/payroll/cycles/{cycle_id}/transitions",
    response=responses({200: CycleDetailOut}, body=True, forbidden=True, not_found=True),
)
def post_transition(request, cycle_id: Id, payload: TransitionIn):
    """Take a step of the cycle: 403 when the user's roles do not allow it here, 422 (with the
    reason) when the map has no such step from the current state or a check refuses it."""
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    allowed = TRANSITIONS.get(cycle.state, {})
    if not any(may_move(request.auth, cycle, to) for to in allowed) or (
        payload.to_state in allowed and not may_move(request.auth, cycle, payload.to_state)
    ):
        raise HttpError(403, _("Your role does not allow this step of the payment cycle here."))
    try:
        cycle = transition(actor=request.auth, cycle=cycle, to_state=payload.to_state, note=payload.note)
    except TransitionForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _detail(request.auth, cycle)


def _contract(c: ProviderContract) -> dict:
    return {
        "id": c.pk,
        "number": c.number,
        "paying_unit_id": c.paying_unit_id,
        "paying_unit": str(c.paying_unit),
        "provider_id": c.provider_id,
        "provider": str(c.provider),
        "purpose": c.purpose,
        "valid_from": c.valid_from,
        "valid_to": c.valid_to,
        "channels": c.channels,
        "fee_kind": c.fee_kind,
        "fee_flat": c.fee_flat,
        "fee_basis_points": c.fee_basis_points,
        "transfer_day": c.transfer_day,
        "payment_day": c.payment_day,
        "settlement_day": c.settlement_day,
        "area_ids": [a.pk for a in c.areas.all()],
    }


@router.get("/payroll/contracts", response=responses({200: ContractPage}, forbidden=True))
def list_contracts(request, filters: Query[PageFilter]):
    """The provider contracts of the paying units in the user's areas, 100 a page."""
    _reader(request)
    qs = queries.contracts_for(request.auth).prefetch_related("areas").order_by("-valid_from", "number")
    count = qs.count()
    start = (filters.page - 1) * PAGE_SIZE
    return {
        "items": [_contract(c) for c in qs[start : start + PAGE_SIZE]],
        "count": count,
        "page": filters.page,
        "pages": _pages(count),
    }


# --- payroll lines, comparison, generation ---------------------------------------------------------


class LineOut(Schema):
    id: int
    beneficiary_id: int
    beneficiary: str
    commune_id: int
    line_type: Literal["regular", "arrears", "recovery", "funeral"]
    amount: int = Field(..., description="whole đồng")
    payee_name: str
    representation_id: int | None
    channel: Literal["account", "pay_point", "home"]
    account: str = Field(..., description="institution and last four digits only")
    category: str = Field(..., description="empty for a sensitive category without registry.view_sensitive")
    categories: list[str]
    explanation: str


class LinePage(Schema):
    items: list[LineOut]
    next_after: int | None = Field(..., description="pass as `after` for the next page; null at the end")


class LineFilters(Schema):
    after: int = Field(0, ge=0, description="the last id of the previous page (keyset)")
    limit: int = Field(PAGE_SIZE, ge=1, le=1000)


class SummaryOut(Schema):
    lines: int
    total_amount: int
    per_channel: dict[str, dict[str, int]]
    per_line_type: dict[str, dict[str, int]]
    fee_total: int
    fee_note: str


class ComparisonItem(Schema):
    beneficiary_id: int
    name: str
    reason: str
    before: int | str | None
    after: int | str | None


class ComparisonOut(Schema):
    month: str
    previous_month: str
    previous_lines: int
    lines: int
    counts: dict[str, int]
    added: list[ComparisonItem]
    removed: list[ComparisonItem]
    amount_changed: list[ComparisonItem]
    payee_changed: list[ComparisonItem]
    channel_changed: list[ComparisonItem]


@router.get("/payroll/cycles/{cycle_id}/lines", response=responses({200: LinePage}, forbidden=True, not_found=True))
def list_lines(request, cycle_id: Id, filters: Query[LineFilters]):
    """The cycle's payroll lines in id order, a keyset page at a time (`after` = last id seen)."""
    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    visible = queries.sensitive_visible(request.auth, cycle)
    rows = queries.lines_page(cycle, filters.after, filters.limit)
    items = [
        {
            "id": ln.pk,
            "beneficiary_id": ln.beneficiary_id,
            "beneficiary": ln.beneficiary.full_name,
            "commune_id": ln.commune_id,
            "line_type": ln.line_type,
            "amount": ln.amount,
            "payee_name": ln.payee_name,
            "representation_id": ln.representation_id,
            "channel": ln.channel,
            "account": ln.masked_account,
        }
        | queries.shown_basis(request.auth, ln, visible)
        for ln in rows
    ]
    return {"items": items, "next_after": rows[-1].pk if len(rows) == filters.limit else None}


@router.get(
    "/payroll/cycles/{cycle_id}/comparison",
    response=responses({200: ComparisonOut}, forbidden=True, not_found=True),
)
def get_comparison(request, cycle_id: Id):
    """Who was added, removed, or changed amount, payee or channel since last month, and why."""
    from ansinh.payroll.generation import compare_with_previous

    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    return compare_with_previous(cycle)


@router.post(
    "/payroll/cycles/{cycle_id}/generate",
    response=responses({200: SummaryOut}, forbidden=True, not_found=True),
)
def post_generate(request, cycle_id: Id):
    """(Re)generate the cycle's draft payroll (payroll.prepare in its area; 422 when the cycle is
    not appraised or its payroll is already approved)."""
    from ansinh.accounts import access
    from ansinh.accounts.roles import Cap
    from ansinh.payroll.generation import generate_payroll

    _reader(request)
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    if not access.can_in_area(request.auth, Cap.PAYROLL_PREPARE, cycle.area):
        raise HttpError(403, _("Your role does not allow preparing the payroll here."))
    return generate_payroll(actor=request.auth, cycle=cycle)
