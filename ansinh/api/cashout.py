"""API of ansinh.cashout (issue 12).

Pay points, routes and cash lists (parts 1 and 2, at the top): pay points and home-delivery
routes (list, get, create, update, in use or not), their pay days of a month, the pay-point
coverage per commune, and a cycle's cash lists (list, build, one with its entries). Receipts and
withdrawals follow below.

Who: cashout.view reads in the object's commune (the provider's staff also the lists of the pay
points and routes they staff); cashout.manage changes pay points, routes and days and makes the
lists. Another area's object is a 404, a reader's write a 403, a refusal of the rules a 422 with
the reason (ansinh.cashout.pay_points, ansinh.cashout.lists). CCCDs on the lists: the last four
digits only. Choice values are codes, each with a Vietnamese `*_label` next to it."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.cashout import coverage as cash_coverage
from ansinh.cashout import lists as cash_lists
from ansinh.cashout import pay_points as places
from ansinh.cashout import queries as cash_queries
from ansinh.cashout.models import CashList, DeliveryRoute, PayPoint

from .common import Id, responses, text

router = Router(tags=["cashout"])

CASH_PAGE = 100
ENTRIES_PAGE = 500
PayPointKindValue = Literal["post_office", "commune_hall", "other"]


# --- pay points, routes, days: schemas ------------------------------------------------------------


class NamedOut(Schema):
    id: int
    name: str


class PayDayOut(Schema):
    day: date
    opens: time
    closes: time
    note: str
    non_working: bool = Field(..., description="a Saturday, Sunday or public holiday (allowed)")


class PayPointOut(Schema):
    id: int
    commune_id: int
    commune: str
    name: str
    kind: PayPointKindValue
    kind_label: str
    address: str
    atm_nearby: bool
    atm_note: str
    villages: list[NamedOut] = Field(..., description="empty: the whole commune")
    staff: list[NamedOut]
    contact: str
    active: bool


class RouteOut(Schema):
    id: int
    commune_id: int
    commune: str
    name: str
    villages: list[NamedOut]
    staff: list[NamedOut]
    active: bool


class PayPointPage(Schema):
    items: list[PayPointOut]
    count: int
    page: int
    pages: int


class RoutePage(Schema):
    items: list[RouteOut]
    count: int
    page: int
    pages: int


class PlaceFilters(Schema):
    commune_id: Id | None = None
    active: bool | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class PayPointIn(Schema):
    name: str = text(max_length=150, min_length=1)
    kind: PayPointKindValue
    address: str = text(max_length=255, min_length=1)
    atm_nearby: bool = False
    atm_note: str = text("", max_length=255)
    village_ids: list[Id] = Field(default_factory=list, max_length=500, description="empty: the whole commune")
    staff_ids: list[Id] = Field(default_factory=list, max_length=200, description="users of the provider's staff")
    contact: str = text("", max_length=255)


class PayPointCreateIn(PayPointIn):
    commune_id: Id


class RouteIn(Schema):
    name: str = text(max_length=150, min_length=1)
    village_ids: list[Id] = Field(default_factory=list, max_length=500)
    staff_ids: list[Id] = Field(default_factory=list, max_length=200)


class RouteCreateIn(RouteIn):
    commune_id: Id


class ActiveIn(Schema):
    active: bool
    note: str = text("", max_length=2000)


class DayIn(Schema):
    day: date
    opens: time
    closes: time
    note: str = text("", max_length=255)


class DaysIn(Schema):
    month: date = Field(..., description="any day of the month (the first is kept)")
    days: list[DayIn] = Field(..., max_length=31)


class DaysFilter(Schema):
    month: date | None = Field(None, description="any day of the month; default: this month")


class DaysOut(Schema):
    month: date
    transfers_deadline: date = Field(..., description="pay days may not be earlier than this")
    days: list[PayDayOut]


class CoverageRowOut(Schema):
    commune_id: int
    commune: str
    pay_points: int
    with_atm: int
    routes: int
    has_pay_point: bool
    has_atm: bool


class CoverageGroupOut(Schema):
    area_id: int | None
    area: str
    communes: int
    with_pay_point: int
    without_pay_point: int
    with_atm: int
    summary: str = Field(..., description="e.g. “3 of 7 communes with an ATM nearby”")
    rows: list[CoverageRowOut]


class CashCoverageOut(Schema):
    total: CoverageGroupOut
    groups: list[CoverageGroupOut]
    without_pay_point: list[CoverageRowOut]


class CoverageFilter(Schema):
    area: Id | None = Field(None, description="a province, district or commune of the user's areas")


# --- cash lists: schemas ----------------------------------------------------------------------------


class CashListOut(Schema):
    id: int
    cycle_id: int
    month: date
    kind: Literal["pay_point", "home"]
    kind_label: str
    commune_id: int
    commune: str
    pay_point_id: int | None
    route_id: int | None
    place: str
    state: Literal["open", "closed"]
    state_label: str
    entries_count: int
    total_amount: int = Field(..., description="whole đồng")
    built_at: datetime
    closed_at: datetime | None
    days: list[PayDayOut]


class CashEntryOut(Schema):
    id: int
    position: int
    beneficiary_id: int
    beneficiary: str
    village: str
    payee: str
    cccd: str = Field(..., description="the payee's CCCD, last four digits only")
    amount: int
    funeral: bool
    source: Literal["payroll", "switched", "withdrawal"]
    source_label: str
    state: Literal["pending", "paid", "not_paid", "returned", "cancelled"]
    state_label: str
    line_ids: list[int]


class CashListDetailOut(CashListOut):
    entries: list[CashEntryOut]
    entries_page: int
    entries_pages: int


class CycleListsOut(Schema):
    cycle_id: int
    month: date
    state: str
    state_label: str
    lists: list[CashListOut]


class CashListsBuildOut(CycleListsOut):
    created: int = Field(..., description="entries added by this call")
    cancelled: int = Field(..., description="pending entries taken off (their lines left cash or changed)")
    kept: int
    routes_created: list[str]
    refusals: list[str]


class EntriesFilter(Schema):
    page: int = Field(1, ge=1, le=1_000_000)


# --- pay points, routes, days: helpers --------------------------------------------------------------


def _pages(count: int, size: int = CASH_PAGE) -> int:
    return max(1, math.ceil(count / size))


def _named(rows) -> list[dict]:
    return [{"id": r.pk, "name": getattr(r, "full_name", "") or getattr(r, "name", "") or str(r)} for r in rows]


def _staff_named(users) -> list[dict]:
    return [{"id": u.pk, "name": u.full_name or u.username} for u in users]


def _day_out(d) -> dict:
    return {
        "day": d.day,
        "opens": d.opens,
        "closes": d.closes,
        "note": d.note,
        "non_working": places.non_working(d.day),
    }


def _point_out(p: PayPoint) -> dict:
    return {
        "id": p.pk,
        "commune_id": p.commune_id,
        "commune": p.commune.name,
        "name": p.name,
        "kind": p.kind,
        "kind_label": str(p.get_kind_display()),
        "address": p.address,
        "atm_nearby": p.atm_nearby,
        "atm_note": p.atm_note,
        "villages": _named(p.villages.all()),
        "staff": _staff_named(p.staff.all()),
        "contact": p.contact,
        "active": p.active,
    }


def _route_out(r: DeliveryRoute) -> dict:
    return {
        "id": r.pk,
        "commune_id": r.commune_id,
        "commune": r.commune.name,
        "name": r.name,
        "villages": _named(r.villages.all()),
        "staff": _staff_named(r.staff.all()),
        "active": r.active,
    }


def _commune(request, commune_id: int) -> Area:
    return get_object_or_404(cash_coverage.communes_for(request.auth), pk=commune_id)


def _point(request, pay_point_id: int) -> PayPoint:
    return get_object_or_404(cash_queries.pay_points_for(request.auth), pk=pay_point_id)


def _route(request, route_id: int) -> DeliveryRoute:
    return get_object_or_404(cash_queries.routes_for(request.auth), pk=route_id)


def _managed(request, commune: Area) -> None:
    if not places.may_manage(request.auth, commune):
        raise HttpError(403, _("Your role does not allow managing pay points in this commune."))


def _villages(commune: Area, ids: list[int]) -> list[Area]:
    found = list(Area.objects.filter(pk__in=set(ids), level=Level.VILLAGE, parent=commune))
    if len(found) != len(set(ids)):
        raise ValidationError({"village_ids": _("Choose villages of this commune only.")})
    return found


def _staff(commune: Area, ids: list[int]) -> list:
    found = list(places.staff_candidates(commune).filter(pk__in=set(ids)))
    if len(found) != len(set(ids)):
        raise ValidationError({"staff_ids": _("Choose staff of the payment provider who work in this commune.")})
    return found


def _point_input(commune: Area, payload: PayPointIn) -> places.PayPointInput:
    return places.PayPointInput(
        name=payload.name,
        kind=payload.kind,
        address=payload.address,
        atm_nearby=payload.atm_nearby,
        atm_note=payload.atm_note,
        villages=_villages(commune, payload.village_ids),
        staff=_staff(commune, payload.staff_ids),
        contact=payload.contact,
    )


def _route_input(commune: Area, payload: RouteIn) -> places.RouteInput:
    return places.RouteInput(
        name=payload.name, villages=_villages(commune, payload.village_ids), staff=_staff(commune, payload.staff_ids)
    )


def _denied(exc: PermissionDenied) -> HttpError:
    return HttpError(403, str(exc) or _("Your role does not allow this here."))


def _filtered(qs, filters: PlaceFilters):
    if filters.commune_id:
        qs = qs.filter(commune_id=filters.commune_id)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    return qs


def _days_out(place, commune: Area, month: date) -> dict:
    month = month.replace(day=1)
    return {
        "month": month,
        "transfers_deadline": places.transfers_deadline(commune, month),
        "days": [_day_out(d) for d in places.days_of(place, month)],
    }


def _days_input(payload: DaysIn) -> list[places.DayInput]:
    return [places.DayInput(day=d.day, opens=d.opens, closes=d.closes, note=d.note) for d in payload.days]


def _this_month() -> date:
    from django.utils import timezone

    return timezone.localdate().replace(day=1)


# --- pay points ------------------------------------------------------------------------------------------


@router.get("/cash/pay-points", response=responses({200: PayPointPage}))
def list_pay_points(request, filters: Query[PlaceFilters]):
    """The pay points of the user's areas, by commune and name, 100 a page."""
    qs = _filtered(cash_queries.pay_points_for(request.auth), filters).prefetch_related("villages", "staff")
    count = qs.count()
    start = (filters.page - 1) * CASH_PAGE
    rows = list(qs.order_by("area_path", "name", "pk")[start : start + CASH_PAGE])
    return {"items": [_point_out(p) for p in rows], "count": count, "page": filters.page, "pages": _pages(count)}


@router.post(
    "/cash/pay-points",
    response=responses({201: PayPointOut}, body=True, forbidden=True, not_found=True),
)
def post_pay_point(request, payload: PayPointCreateIn):
    """A new pay point of a commune."""
    commune = _commune(request, payload.commune_id)
    _managed(request, commune)
    try:
        point = places.create_pay_point(actor=request.auth, commune=commune, data=_point_input(commune, payload))
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return Status(201, _point_out(point))


@router.get("/cash/pay-points/{pay_point_id}", response=responses({200: PayPointOut}, not_found=True))
def get_pay_point(request, pay_point_id: Id):
    return _point_out(_point(request, pay_point_id))


@router.put(
    "/cash/pay-points/{pay_point_id}",
    response=responses({200: PayPointOut}, body=True, forbidden=True, not_found=True),
)
def put_pay_point(request, pay_point_id: Id, payload: PayPointIn):
    """Change a pay point (every field: villages and staff as given)."""
    point = _point(request, pay_point_id)
    _managed(request, point.commune)
    try:
        point = places.update_pay_point(actor=request.auth, pay_point=point, data=_point_input(point.commune, payload))
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return _point_out(point)


@router.post(
    "/cash/pay-points/{pay_point_id}/active",
    response=responses({200: PayPointOut}, body=True, forbidden=True, not_found=True),
)
def post_pay_point_active(request, pay_point_id: Id, payload: ActiveIn):
    """Take a pay point out of use or back into use; the commune's last one in use stays (422)."""
    point = _point(request, pay_point_id)
    _managed(request, point.commune)
    try:
        point = places.set_pay_point_active(
            actor=request.auth, pay_point=point, active=payload.active, note=payload.note
        )
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return _point_out(point)


@router.get("/cash/pay-points/{pay_point_id}/days", response=responses({200: DaysOut}, not_found=True))
def get_pay_point_days(request, pay_point_id: Id, filters: Query[DaysFilter]):
    point = _point(request, pay_point_id)
    return _days_out(point, point.commune, filters.month or _this_month())


@router.put(
    "/cash/pay-points/{pay_point_id}/days",
    response=responses({200: DaysOut}, body=True, forbidden=True, not_found=True),
)
def put_pay_point_days(request, pay_point_id: Id, payload: DaysIn):
    """Set the pay days of a month (replacing that month's): never before the transfers deadline."""
    point = _point(request, pay_point_id)
    _managed(request, point.commune)
    try:
        places.set_pay_days(actor=request.auth, month=payload.month, days=_days_input(payload), pay_point=point)
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return _days_out(point, point.commune, payload.month)


# --- routes ------------------------------------------------------------------------------------------


@router.get("/cash/routes", response=responses({200: RoutePage}))
def list_routes(request, filters: Query[PlaceFilters]):
    """The home-delivery routes of the user's areas, 100 a page."""
    qs = _filtered(cash_queries.routes_for(request.auth), filters).prefetch_related("villages", "staff")
    count = qs.count()
    start = (filters.page - 1) * CASH_PAGE
    rows = list(qs.order_by("area_path", "name", "pk")[start : start + CASH_PAGE])
    return {"items": [_route_out(r) for r in rows], "count": count, "page": filters.page, "pages": _pages(count)}


@router.post("/cash/routes", response=responses({201: RouteOut}, body=True, forbidden=True, not_found=True))
def post_route(request, payload: RouteCreateIn):
    commune = _commune(request, payload.commune_id)
    _managed(request, commune)
    try:
        route = places.create_route(actor=request.auth, commune=commune, data=_route_input(commune, payload))
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return Status(201, _route_out(route))


@router.get("/cash/routes/{route_id}", response=responses({200: RouteOut}, not_found=True))
def get_route(request, route_id: Id):
    return _route_out(_route(request, route_id))


@router.put("/cash/routes/{route_id}", response=responses({200: RouteOut}, body=True, forbidden=True, not_found=True))
def put_route(request, route_id: Id, payload: RouteIn):
    route = _route(request, route_id)
    _managed(request, route.commune)
    try:
        route = places.update_route(actor=request.auth, route=route, data=_route_input(route.commune, payload))
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return _route_out(route)


@router.post(
    "/cash/routes/{route_id}/active",
    response=responses({200: RouteOut}, body=True, forbidden=True, not_found=True),
)
def post_route_active(request, route_id: Id, payload: ActiveIn):
    route = _route(request, route_id)
    _managed(request, route.commune)
    try:
        route = places.set_route_active(actor=request.auth, route=route, active=payload.active, note=payload.note)
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return _route_out(route)


@router.get("/cash/routes/{route_id}/days", response=responses({200: DaysOut}, not_found=True))
def get_route_days(request, route_id: Id, filters: Query[DaysFilter]):
    route = _route(request, route_id)
    return _days_out(route, route.commune, filters.month or _this_month())


@router.put(
    "/cash/routes/{route_id}/days",
    response=responses({200: DaysOut}, body=True, forbidden=True, not_found=True),
)
def put_route_days(request, route_id: Id, payload: DaysIn):
    route = _route(request, route_id)
    _managed(request, route.commune)
    try:
        places.set_pay_days(actor=request.auth, month=payload.month, days=_days_input(payload), route=route)
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return _days_out(route, route.commune, payload.month)


# --- coverage --------------------------------------------------------------------------------------------


def _coverage_row(r: cash_coverage.CommuneRow) -> dict:
    return {
        "commune_id": r.commune.pk,
        "commune": r.commune.full_name,
        "pay_points": r.pay_points,
        "with_atm": r.with_atm,
        "routes": r.routes,
        "has_pay_point": r.has_pay_point,
        "has_atm": r.has_atm,
    }


def _coverage_group(g: cash_coverage.Group) -> dict:
    return {
        "area_id": g.area.pk if g.area is not None else None,
        "area": g.area.full_name if g.area is not None else "",
        "communes": g.communes,
        "with_pay_point": g.with_pay_point,
        "without_pay_point": g.without_pay_point,
        "with_atm": g.with_atm,
        "summary": cash_coverage.atm_summary(g),
        "rows": [_coverage_row(r) for r in g.rows],
    }


@router.get("/cash/coverage", response=responses({200: CashCoverageOut}))
def get_cash_coverage(request, filters: Query[CoverageFilter]):
    """Pay points per commune of the user's areas, ATM availability, the communes without a pay
    point; an area outside the user's answers an empty report."""
    area = None
    if filters.area:
        area = Area.objects.filter(pk=filters.area).first()
        if area is None or not access.can_in_area(request.auth, Cap.CASH_VIEW, area):
            area = Area(path="/-/")  # another area's: nothing is under it, and its name is not told
    report = cash_coverage.coverage(request.auth, area)
    return {
        "total": _coverage_group(report.total),
        "groups": [_coverage_group(g) for g in report.groups],
        "without_pay_point": [_coverage_row(r) for r in report.without],
    }


# --- cash lists ------------------------------------------------------------------------------------------


def _list_out(cl: CashList) -> dict:
    place = cl.pay_point or cl.route
    return {
        "id": cl.pk,
        "cycle_id": cl.cycle_id,
        "month": cl.cycle.month,
        "kind": cl.kind,
        "kind_label": str(cl.get_kind_display()),
        "commune_id": cl.commune_id,
        "commune": cl.commune.name,
        "pay_point_id": cl.pay_point_id,
        "route_id": cl.route_id,
        "place": place.name if place is not None else "",
        "state": cl.state,
        "state_label": str(cl.get_state_display()),
        "entries_count": cl.entries_count,
        "total_amount": cl.total_amount,
        "built_at": cl.built_at,
        "closed_at": cl.closed_at,
        "days": [_day_out(d) for d in places.days_of(place, cl.cycle.month)] if place is not None else [],
    }


def _entry_out(e) -> dict:
    return {
        "id": e.pk,
        "position": e.position,
        "beneficiary_id": e.beneficiary_id,
        "beneficiary": e.beneficiary.full_name,
        "village": e.village.name if e.village_id else "",
        "payee": e.payee_name,
        "cccd": cash_queries.masked_cccd(e),
        "amount": e.amount,
        "funeral": e.funeral,
        "source": e.source,
        "source_label": str(e.get_source_display()),
        "state": e.state,
        "state_label": str(e.get_state_display()),
        "line_ids": [x.line_id for x in e.entry_lines.all()],
    }


def _cycle_lists(request, cycle) -> dict:
    qs = cash_queries.cash_lists_for(request.auth).filter(cycle=cycle).order_by("area_path", "kind", "id")
    return {
        "cycle_id": cycle.pk,
        "month": cycle.month,
        "state": cycle.state,
        "state_label": str(cycle.get_state_display()),
        "lists": [_list_out(cl) for cl in qs],
    }


@router.get("/cash/cycles/{cycle_id}/lists", response=responses({200: CycleListsOut}, not_found=True))
def list_cash_lists(request, cycle_id: Id):
    """The cycle's cash lists the user may read, with their counts, totals and pay days."""
    cycle = get_object_or_404(cash_queries.cycles_for(request.auth), pk=cycle_id)
    return _cycle_lists(request, cycle)


@router.post(
    "/cash/cycles/{cycle_id}/lists",
    response=responses({200: CashListsBuildOut}, forbidden=True, not_found=True),
)
def post_cash_lists(request, cycle_id: Id):
    """Make the cycle's cash lists, or bring them up to date (switched lines added, lines that
    left cash taken off; paid entries kept). Running it again changes nothing. 422 when the cycle
    is not approved and funded (or already settled)."""
    cycle = get_object_or_404(cash_queries.cycles_for(request.auth), pk=cycle_id)
    if not cash_lists.may_build(request.auth, cycle):
        raise HttpError(403, _("Your role does not allow making the cash lists here."))
    try:
        result = cash_lists.build_cash_lists(actor=request.auth, cycle=cycle)
    except PermissionDenied as exc:
        raise _denied(exc) from exc
    return _cycle_lists(request, cycle) | {
        "created": result.created,
        "cancelled": result.cancelled,
        "kept": result.kept,
        "routes_created": result.routes_created,
        "refusals": result.refusals,
    }


@router.get("/cash/lists/{cash_list_id}", response=responses({200: CashListDetailOut}, not_found=True))
def get_cash_list(request, cash_list_id: Id, filters: Query[EntriesFilter]):
    """One cash list with its people in list order (village by village), 500 a page."""
    cl = get_object_or_404(cash_queries.cash_lists_for(request.auth), pk=cash_list_id)
    entries = cash_queries.live_entries(cl).prefetch_related("entry_lines")
    count = entries.count()
    start = (filters.page - 1) * ENTRIES_PAGE
    rows = list(entries[start : start + ENTRIES_PAGE])
    return _list_out(cl) | {
        "entries": [_entry_out(e) for e in rows],
        "entries_page": filters.page,
        "entries_pages": _pages(count, ENTRIES_PAGE),
    }


# --- receipts and withdrawals (parts 3 and 4) below ----------------------------------------------------
# Recording on the lists (ansinh.cashout.receipts, closing, withdrawals). A POST of a receipt or a
# withdrawal carries an `Idempotency-Key` header: the same key again records nothing and answers
# the first answer with the same status code. Who records: cashout.record (the provider's staff);
# who closes a list: cashout.manage or cashout.record; who closes an account follow-up:
# cashout.manage. A reader's write is a 403; another area's list, entry or pay point a 404.

from ninja import Header  # noqa: E402

from ansinh.cashout import closing as cash_closing  # noqa: E402
from ansinh.cashout import receipts as cash_receipts  # noqa: E402
from ansinh.cashout import records as cash_records  # noqa: E402
from ansinh.cashout import withdrawals as cash_withdrawals  # noqa: E402
from ansinh.cashout.models import (  # noqa: E402
    AccountFollowUp,
    CashEntry,
    CashReceipt,
    Withdrawal,
)
from ansinh.registry.models import Beneficiary  # noqa: E402

RECORDS_PAGE = 100
# required, 8 to 64 letters, digits or ._:- (a UUID): checked by the service after the access
# check (a reader learns a 403), so that a missing or malformed key is a 422 of type "rule"
IdempotencyKey = Header(None, alias="Idempotency-Key", description="8 to 64 letters, digits or ._:- (a UUID)")


class CashReceiptIn(Schema):
    outcome: Literal["paid", "not_paid"]
    reason: str = text("", max_length=12, description="not paid: absent, died, moved, refused or other")
    note: str = text("", max_length=255)
    receiver_kind: Literal["", "beneficiary", "representative"] = ""
    representation_id: Id | None = None
    receiver_cccd: str = text("", max_length=12, description="all 12 digits, or the last 4")
    occurred_at: datetime | None = Field(None, description="when it happened (default: now)")
    device: str = text("", max_length=64)


class CashReceiptAnswer(Schema):
    receipt_id: int
    entry_id: int
    result: Literal["recorded", "already_paid", "stopped", "closed", "refused"]
    result_label: str
    message: str
    outcome: str
    entry_state: str
    entry_state_label: str
    amount: int = Field(..., description="whole đồng")
    payouts: int = Field(..., description="payments written (one per payroll line)")
    cccd_checked: bool


class CashReceiptOut(Schema):
    id: int
    entry_id: int
    beneficiary: str
    outcome: str
    outcome_label: str
    reason: str
    reason_label: str
    receiver_kind: str
    receiver_name: str
    cccd_checked: bool
    result: str
    result_label: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    has_photo: bool


class CashReceiptPage(Schema):
    items: list[CashReceiptOut]
    count: int
    page: int
    pages: int


class RecordsFilter(Schema):
    page: int = Field(1, ge=1, le=100_000)


class WithdrawalIn(Schema):
    beneficiary_id: Id
    outcome: Literal["served", "cannot"]
    means: Literal["", "card", "cccd_sms"] = ""
    reason: str = text("", max_length=12, description="could not: no_otp, no_card, forgot_pin or other")
    amount: int | None = Field(None, ge=1, le=10**12, description="whole đồng withdrawn")
    note: str = text("", max_length=255)
    occurred_at: datetime | None = None


class WithdrawalOut(Schema):
    id: int
    beneficiary_id: int
    beneficiary: str
    pay_point_id: int
    pay_point: str
    month: date
    outcome: str
    outcome_label: str
    means: str
    means_label: str
    reason: str
    reason_label: str
    amount: int | None
    credited: int | None = Field(None, description="the credited amount (whole đồng)")
    cash_entry_id: int | None
    exception_id: int | None
    follow_up_id: int | None
    occurred_at: datetime


class WithdrawalPage(Schema):
    items: list[WithdrawalOut]
    count: int
    page: int
    pages: int


class WithdrawalFilter(Schema):
    page: int = Field(1, ge=1, le=100_000)
    pay_point_id: Id | None = None


class CloseListOut(Schema):
    cash_list_id: int
    state: str
    state_label: str
    already_closed: bool
    returned: int
    owed: int
    stops: int


class FollowUpOut(Schema):
    id: int
    beneficiary_id: int
    beneficiary: str
    account: str = Field(..., description="institution and the last 4 digits")
    reason: str
    reason_label: str
    pay_point: str
    opened_at: datetime
    closed_at: datetime | None
    outcome_note: str


class FollowUpPage(Schema):
    items: list[FollowUpOut]
    count: int
    page: int
    pages: int


class FollowUpFilter(Schema):
    page: int = Field(1, ge=1, le=100_000)
    state: Literal["open", "closed", "all"] = "open"


class FollowUpCloseIn(Schema):
    note: str = text(..., max_length=255, min_length=1)


def _records_page(qs, page: int) -> tuple[list, int]:
    count = qs.count()
    start = (page - 1) * RECORDS_PAGE
    return list(qs[start : start + RECORDS_PAGE]), count


def _receipt_out(r: CashReceipt) -> dict:
    return {
        "id": r.pk,
        "entry_id": r.entry_id,
        "beneficiary": r.entry.beneficiary.full_name,
        "outcome": r.outcome,
        "outcome_label": str(r.get_outcome_display()),
        "reason": r.reason,
        "reason_label": str(r.get_reason_display()) if r.reason else "",
        "receiver_kind": r.receiver_kind,
        "receiver_name": r.receiver_name,
        "cccd_checked": r.cccd_checked,
        "result": r.result,
        "result_label": str(r.get_result_display()),
        "occurred_at": r.occurred_at,
        "recorded_at": r.recorded_at,
        "recorded_by": r.recorded_by.full_name or r.recorded_by.username,
        "has_photo": bool(r.photo),
    }


def _withdrawal_out(w: Withdrawal) -> dict:
    answer = w.answer or {}
    return {
        "id": w.pk,
        "beneficiary_id": w.beneficiary_id,
        "beneficiary": w.beneficiary.full_name,
        "pay_point_id": w.pay_point_id,
        "pay_point": w.pay_point.name,
        "month": w.cycle.month,
        "outcome": w.outcome,
        "outcome_label": str(w.get_outcome_display()),
        "means": w.means,
        "means_label": str(w.get_means_display()) if w.means else "",
        "reason": w.reason,
        "reason_label": str(w.get_reason_display()) if w.reason else "",
        "amount": w.amount,
        "credited": answer.get("credited"),
        "cash_entry_id": w.cash_entry_id,
        "exception_id": answer.get("exception_id"),
        "follow_up_id": answer.get("follow_up_id"),
        "occurred_at": w.occurred_at,
    }


def _follow_up_out(f: AccountFollowUp) -> dict:
    return {
        "id": f.pk,
        "beneficiary_id": f.beneficiary_id,
        "beneficiary": f.beneficiary.full_name,
        "account": f"{f.account.institution.code} •••• {f.account.last4}",
        "reason": f.reason,
        "reason_label": str(f.get_reason_display()),
        "pay_point": f.withdrawal.pay_point.name,
        "opened_at": f.opened_at,
        "closed_at": f.closed_at,
        "outcome_note": f.outcome_note,
    }


def _entry_for_recording(request, entry_id: int) -> CashEntry:
    entry = get_object_or_404(cash_records.entries_for(request.auth), pk=entry_id)
    if not cash_records.may_record(request.auth, entry.commune):
        raise HttpError(403, _("Your role does not allow recording cash payments here."))
    return entry


@router.post(
    "/cash/entries/{entry_id}/receipts",
    response=responses({201: CashReceiptAnswer, 409: CashReceiptAnswer}, body=True, forbidden=True, not_found=True),
)
def post_cash_receipt(request, entry_id: Id, payload: CashReceiptIn, idempotency_key: str | None = IdempotencyKey):
    """Record what happened for one person on a cash list: paid (to the person or a listed
    representative, whose CCCD is checked: all 12 digits or the last 4) or not paid with a reason.
    201: recorded. 409: a conflict kept with its reason (already paid, stopped since the list was
    made, list closed): nothing else changed. The same `Idempotency-Key` again answers the first
    answer with the same status; the same key for another entry is a 422."""
    entry = _entry_for_recording(request, entry_id)
    try:
        receipt = cash_receipts.record_cash_receipt(
            actor=request.auth,
            entry_id=entry.pk,
            idempotency_key=idempotency_key or "",
            outcome=payload.outcome,
            reason=payload.reason,
            note=payload.note,
            receiver_kind=payload.receiver_kind,
            representation_id=payload.representation_id,
            receiver_cccd=payload.receiver_cccd,
            occurred_at=payload.occurred_at,
            device=payload.device,
        )
    except cash_receipts.CashForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    except CashEntry.DoesNotExist as exc:
        raise HttpError(404, _("Not found.")) from exc
    return Status(cash_receipts.status_code(receipt), cash_receipts.answer_of(receipt))


@router.get("/cash/lists/{cash_list_id}/receipts", response=responses({200: CashReceiptPage}, not_found=True))
def list_cash_receipts(request, cash_list_id: Id, filters: Query[RecordsFilter]):
    """What was recorded on a list, newest first (conflicts included), 100 a page."""
    cash_list = get_object_or_404(cash_queries.cash_lists_for(request.auth), pk=cash_list_id)
    qs = cash_records.receipts_for(request.auth).filter(entry__cash_list=cash_list).order_by("-recorded_at", "-id")
    rows, count = _records_page(qs, filters.page)
    return {
        "items": [_receipt_out(r) for r in rows],
        "count": count,
        "page": filters.page,
        "pages": max(1, math.ceil(count / RECORDS_PAGE)),
    }


@router.post(
    "/cash/lists/{cash_list_id}/close",
    response=responses({200: CloseListOut}, forbidden=True, not_found=True),
)
def post_close_cash_list(request, cash_list_id: Id):
    """Close a list at the end of the paying period: the unpaid cash is returned; a person still
    entitled is owed next month (arrears), a death or a move is sent to the commune to record.
    Closing again changes nothing."""
    cash_list = get_object_or_404(cash_queries.cash_lists_for(request.auth), pk=cash_list_id)
    if not cash_closing.may_close(request.auth, cash_list):
        raise HttpError(403, _("Your role does not allow closing cash lists here."))
    try:
        result = cash_closing.close_cash_list(actor=request.auth, cash_list=cash_list)
    except cash_receipts.CashForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    cash_list.refresh_from_db()
    return {
        "cash_list_id": cash_list.pk,
        "state": cash_list.state,
        "state_label": str(cash_list.get_state_display()),
        "already_closed": result["already_closed"],
        "returned": result["returned"],
        "owed": result["owed"],
        "stops": result["stops"],
    }


@router.post(
    "/cash/pay-points/{pay_point_id}/withdrawals",
    response=responses({201: WithdrawalOut}, body=True, forbidden=True, not_found=True),
)
def post_withdrawal(request, pay_point_id: Id, payload: WithdrawalIn, idempotency_key: str | None = IdempotencyKey):
    """An account holder of the pay point's commune served (card, or CCCD and the SMS code) or
    not (no OTP, no card, forgot the PIN, other: a cash path the same month, the office's
    exception, the account flagged). The same `Idempotency-Key` again answers the first answer."""
    point = _point(request, pay_point_id)
    if not cash_records.may_record(request.auth, point.commune):
        raise HttpError(403, _("Your role does not allow recording withdrawals here."))
    beneficiary = Beneficiary.objects.filter(pk=payload.beneficiary_id, commune=point.commune).first()
    if beneficiary is None:
        raise ValidationError({"beneficiary_id": _("This person does not live in the pay point's commune.")})
    try:
        w = cash_withdrawals.record_withdrawal(
            actor=request.auth,
            pay_point=point,
            beneficiary=beneficiary,
            idempotency_key=idempotency_key or "",
            outcome=payload.outcome,
            means=payload.means,
            reason=payload.reason,
            amount=payload.amount,
            note=payload.note,
            occurred_at=payload.occurred_at,
        )
    except cash_receipts.CashForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return Status(201, _withdrawal_out(w))


@router.get("/cash/withdrawals", response=responses({200: WithdrawalPage}))
def list_withdrawals(request, filters: Query[WithdrawalFilter]):
    """Withdrawals recorded at the pay points of the user's areas, newest first, 100 a page."""
    qs = cash_records.withdrawals_for(request.auth).order_by("-occurred_at", "-id")
    if filters.pay_point_id:
        qs = qs.filter(pay_point_id=filters.pay_point_id)
    rows, count = _records_page(qs, filters.page)
    return {
        "items": [_withdrawal_out(w) for w in rows],
        "count": count,
        "page": filters.page,
        "pages": max(1, math.ceil(count / RECORDS_PAGE)),
    }


@router.get("/cash/follow-ups", response=responses({200: FollowUpPage}))
def list_follow_ups(request, filters: Query[FollowUpFilter]):
    """Accounts flagged after their holder could not withdraw (open ones by default)."""
    qs = cash_records.follow_ups_for(request.auth).order_by("-opened_at", "-id")
    if filters.state == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif filters.state == "closed":
        qs = qs.filter(closed_at__isnull=False)
    rows, count = _records_page(qs, filters.page)
    return {
        "items": [_follow_up_out(f) for f in rows],
        "count": count,
        "page": filters.page,
        "pages": max(1, math.ceil(count / RECORDS_PAGE)),
    }


@router.post(
    "/cash/follow-ups/{follow_up_id}/close",
    response=responses({200: FollowUpOut}, body=True, forbidden=True, not_found=True),
)
def post_close_follow_up(request, follow_up_id: Id, payload: FollowUpCloseIn):
    """Close a flagged account with what was done (the office's exception is resolved with it)."""
    follow_up = get_object_or_404(cash_records.follow_ups_for(request.auth), pk=follow_up_id)
    if not cash_withdrawals.may_close_follow_up(request.auth, follow_up):
        raise HttpError(403, _("Your role does not allow closing account follow-ups here."))
    try:
        follow_up = cash_withdrawals.close_follow_up(actor=request.auth, follow_up=follow_up, note=payload.note)
    except cash_receipts.CashForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _follow_up_out(cash_records.follow_ups_for(request.auth).get(pk=follow_up.pk))
