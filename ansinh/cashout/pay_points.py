"""Pay points, home-delivery routes and their monthly pay days (issue 12 part 1). Every write here
is audited and needs cashout.manage on the commune (the commune with the provider, and the office).

Rules (here, so that the pages, the API, the CLI and the demo all keep them):

- A commune needs at least one pay point in use (the plan requires it): the last one cannot be
  taken out of use.
- The villages a pay point or a route serves are villages of its commune; its staff are users
  holding the provider's staff role on an area that contains the commune.
- The pay days of a month are in that month and never before the transfers' deadline of the
  month's cycles (the province calendar's "transfers" day, moved off weekends and holidays):
  account holders are credited by then, so account holders and cash recipients are served on the
  same days (the pilot paid cash first and made account holders wait). A day on a weekend or a
  public holiday is allowed (pay points open on Saturdays); the pages point it out
  (`non_working`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.models import RoleAssignment
from ansinh.accounts.roles import Cap, Role
from ansinh.areas.models import Area, Level
from ansinh.audit.services import record
from ansinh.payroll.calendar import calendar_for, due_date, is_working_day
from ansinh.payroll.models import CycleDeadline, DeadlineKind, PaymentCycle

from .models import DeliveryRoute, PayDay, PayPoint, PayPointKind


@dataclass
class PayPointInput:
    name: str
    kind: str
    address: str
    atm_nearby: bool = False
    atm_note: str = ""
    villages: list = field(default_factory=list)  # Area (villages of the commune)
    staff: list = field(default_factory=list)  # User (provider staff)
    contact: str = ""


@dataclass
class RouteInput:
    name: str
    villages: list = field(default_factory=list)
    staff: list = field(default_factory=list)


@dataclass
class DayInput:
    day: date
    opens: time
    closes: time
    note: str = ""


# --- who and what ----------------------------------------------------------------------------------


def may_manage(user, commune: Area) -> bool:
    return access.can_in_area(user, Cap.CASH_MANAGE, commune)


def _require(actor, commune: Area) -> None:
    """`actor` None: a system run (the demo, a command)."""
    if actor is not None and not may_manage(actor, commune):
        raise PermissionDenied(_("Your role does not allow managing pay points in this commune."))


def staff_candidates(commune: Area):
    """Users holding the provider's staff role (active) on an area that contains `commune`."""
    from ansinh.accounts.models import User

    prefixes = _prefixes(commune.path)
    user_ids = (
        RoleAssignment.objects.active()
        .filter(role=Role.PROVIDER_STAFF, area__path__in=prefixes, user__is_active=True)
        .values("user_id")
    )
    return User.objects.filter(pk__in=user_ids).order_by("full_name", "username")


def _prefixes(path: str) -> list[str]:
    """`/1/2/3/` → [`/1/`, `/1/2/`, `/1/2/3/`]: the paths of the areas containing it."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _clean_villages(commune: Area, villages: Iterable, errors: dict) -> list[Area]:
    chosen = list(villages or [])
    if any(v.level != Level.VILLAGE or v.parent_id != commune.pk for v in chosen):
        errors["villages"] = [_("Choose villages of this commune only.")]
    return chosen


def _clean_staff(commune: Area, staff: Iterable, errors: dict) -> list:
    chosen = list(staff or [])
    allowed = set(staff_candidates(commune).filter(pk__in=[u.pk for u in chosen]).values_list("pk", flat=True))
    if any(u.pk not in allowed for u in chosen):
        errors["staff"] = [_("Choose staff of the payment provider who work in this commune.")]
    return chosen


def _check_commune(commune: Area) -> None:
    if commune.level != Level.COMMUNE:
        raise ValidationError({"commune": [_("Choose a commune.")]})


def _clean_point(commune: Area, data: PayPointInput, exclude: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    address = (data.address or "").strip()
    if not name:
        errors["name"] = [_("Give the pay point a name.")]
    elif PayPoint.objects.filter(commune=commune, name__iexact=name).exclude(pk=exclude or 0).exists():
        errors["name"] = [_("This commune already has a pay point of this name.")]
    if data.kind not in PayPointKind.values:
        errors["kind"] = [_("Choose the type of place.")]
    if not address:
        errors["address"] = [_("Give the address of the pay point.")]
    atm_note = (data.atm_note or "").strip() if data.atm_nearby else ""
    villages = _clean_villages(commune, data.villages, errors)
    staff = _clean_staff(commune, data.staff, errors)
    if errors:
        raise ValidationError(errors)
    return {
        "fields": {
            "name": name[:150],
            "kind": data.kind,
            "address": address[:255],
            "atm_nearby": bool(data.atm_nearby),
            "atm_note": atm_note[:255],
            "contact": (data.contact or "").strip()[:255],
        },
        "villages": villages,
        "staff": staff,
    }


def _point_text(point: PayPoint) -> dict:
    return {
        "name": point.name,
        "kind": point.kind,
        "address": point.address,
        "atm_nearby": point.atm_nearby,
        "atm_note": point.atm_note,
        "contact": point.contact,
        "active": point.active,
        "villages": sorted(v.name for v in point.villages.all()),
        "staff": sorted(u.username for u in point.staff.all()),
        "commune": point.commune.name,
    }


# --- pay points ---------------------------------------------------------------------------------------


@transaction.atomic
def create_pay_point(*, actor, commune: Area, data: PayPointInput) -> PayPoint:
    _check_commune(commune)
    _require(actor, commune)
    clean = _clean_point(commune, data)
    point = PayPoint.objects.create(commune=commune, area_path=commune.path, **clean["fields"])
    point.villages.set(clean["villages"])
    point.staff.set(clean["staff"])
    record(actor=actor, action="cashout.pay_point.created", obj=point, area=commune, after=_point_text(point))
    return point


def _lock_point(point: PayPoint) -> PayPoint:
    return PayPoint.objects.select_for_update(of=("self",)).select_related("commune").get(pk=point.pk)


@transaction.atomic
def update_pay_point(*, actor, pay_point: PayPoint, data: PayPointInput) -> PayPoint:
    point = _lock_point(pay_point)
    _require(actor, point.commune)
    clean = _clean_point(point.commune, data, exclude=point.pk)
    before = _point_text(point)
    for name, value in clean["fields"].items():
        setattr(point, name, value)
    point.save(update_fields=list(clean["fields"]))
    point.villages.set(clean["villages"])
    point.staff.set(clean["staff"])
    after = _point_text(point)
    changed_before = {k: v for k, v in before.items() if after.get(k) != v}
    changed_after = {k: after[k] for k in changed_before}
    if changed_after:
        record(
            actor=actor,
            action="cashout.pay_point.updated",
            obj=point,
            area=point.commune,
            before=changed_before,
            after=changed_after | {"name": point.name},
        )
    return point


@transaction.atomic
def set_pay_point_active(*, actor, pay_point: PayPoint, active: bool, note: str = "") -> PayPoint:
    """Take a pay point out of use (never the commune's last one) or back into use."""
    point = _lock_point(pay_point)
    _require(actor, point.commune)
    if point.active == active:
        return point
    if not active:
        # lock the commune's pay points so that two people cannot each take out one of the last two
        others = list(
            PayPoint.objects.select_for_update()
            .filter(commune_id=point.commune_id, active=True)
            .exclude(pk=point.pk)
            .values_list("pk", flat=True)
        )
        if not others:
            raise ValidationError(
                _(
                    "This is the commune's only pay point in use: the plan requires at least one. "
                    "Add another pay point before taking this one out of use."
                )
            )
    point.active = active
    point.save(update_fields=["active"])
    record(
        actor=actor,
        action="cashout.pay_point.activated" if active else "cashout.pay_point.deactivated",
        obj=point,
        area=point.commune,
        after={"name": point.name, "commune": point.commune.name},
        note=(note or "").strip()[:2000],
    )
    return point


# --- routes -------------------------------------------------------------------------------------------


def _clean_route(commune: Area, data: RouteInput, exclude: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = [_("Give the route a name.")]
    elif DeliveryRoute.objects.filter(commune=commune, name__iexact=name).exclude(pk=exclude or 0).exists():
        errors["name"] = [_("This commune already has a route of this name.")]
    villages = _clean_villages(commune, data.villages, errors)
    staff = _clean_staff(commune, data.staff, errors)
    if errors:
        raise ValidationError(errors)
    return {"name": name[:150], "villages": villages, "staff": staff}


def _route_text(route: DeliveryRoute) -> dict:
    return {
        "name": route.name,
        "active": route.active,
        "villages": sorted(v.name for v in route.villages.all()),
        "staff": sorted(u.username for u in route.staff.all()),
        "commune": route.commune.name,
    }


@transaction.atomic
def create_route(*, actor, commune: Area, data: RouteInput) -> DeliveryRoute:
    _check_commune(commune)
    _require(actor, commune)
    clean = _clean_route(commune, data)
    route = DeliveryRoute.objects.create(commune=commune, area_path=commune.path, name=clean["name"])
    route.villages.set(clean["villages"])
    route.staff.set(clean["staff"])
    record(actor=actor, action="cashout.route.created", obj=route, area=commune, after=_route_text(route))
    return route


@transaction.atomic
def update_route(*, actor, route: DeliveryRoute, data: RouteInput) -> DeliveryRoute:
    route = DeliveryRoute.objects.select_for_update(of=("self",)).select_related("commune").get(pk=route.pk)
    _require(actor, route.commune)
    clean = _clean_route(route.commune, data, exclude=route.pk)
    before = _route_text(route)
    route.name = clean["name"]
    route.save(update_fields=["name"])
    route.villages.set(clean["villages"])
    route.staff.set(clean["staff"])
    after = _route_text(route)
    changed_before = {k: v for k, v in before.items() if after.get(k) != v}
    if changed_before:
        record(
            actor=actor,
            action="cashout.route.updated",
            obj=route,
            area=route.commune,
            before=changed_before,
            after={k: after[k] for k in changed_before} | {"name": route.name},
        )
    return route


@transaction.atomic
def set_route_active(*, actor, route: DeliveryRoute, active: bool, note: str = "") -> DeliveryRoute:
    route = DeliveryRoute.objects.select_for_update(of=("self",)).select_related("commune").get(pk=route.pk)
    _require(actor, route.commune)
    if route.active != active:
        route.active = active
        route.save(update_fields=["active"])
        record(
            actor=actor,
            action="cashout.route.activated" if active else "cashout.route.deactivated",
            obj=route,
            area=route.commune,
            after={"name": route.name, "commune": route.commune.name},
            note=(note or "").strip()[:2000],
        )
    return route


# --- pay days -----------------------------------------------------------------------------------------


FIRST_YEAR, LAST_YEAR = 2000, 2100  # the months pay days can be set for


def check_month(month: date) -> date:
    """The first of `month`; a month far outside the payments' years is refused."""
    if not FIRST_YEAR <= month.year <= LAST_YEAR:
        raise ValidationError(
            {"month": [_("Choose a month between %(first)s and %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR}]}
        )
    return month.replace(day=1)


def transfers_deadline(commune: Area, month: date) -> date:
    """The day account holders are credited by for `month` in `commune`: the transfers deadline
    of the month's cycles that cover the commune (the latest, when several), else the province
    calendar's (a month whose cycles are not open yet)."""
    month = check_month(month)
    cycles = PaymentCycle.objects.filter(month=month, area_path__in=_prefixes(commune.path))
    found = (
        CycleDeadline.objects.filter(cycle__in=cycles, kind=DeadlineKind.TRANSFERS)
        .order_by("-due_date")
        .values_list("due_date", flat=True)
        .first()
    )
    if found is not None:
        return found
    return due_date(calendar_for(commune.province), month, DeadlineKind.TRANSFERS)


def non_working(day: date) -> bool:
    """A Saturday, a Sunday or a Vietnamese public holiday (allowed, pointed out on the pages)."""
    return not is_working_day(day)


def _clean_days(place_commune: Area, month: date, days: list[DayInput]) -> list[DayInput]:
    errors: list[str] = []
    seen: set[date] = set()
    deadline = transfers_deadline(place_commune, month)
    for d in days:
        label = f"{d.day:%d/%m/%Y}"
        if d.day.replace(day=1) != month:
            errors.append(_("%(day)s is not in %(month)s.") % {"day": label, "month": f"{month:%m/%Y}"})
        elif d.day < deadline:
            errors.append(
                _(
                    "%(day)s is before the transfers deadline (%(deadline)s): cash is paid from the day account "
                    "holders are credited, so that everyone is served on the same days."
                )
                % {"day": label, "deadline": f"{deadline:%d/%m/%Y}"}
            )
        if d.opens >= d.closes:
            errors.append(_("On %(day)s the closing hour must be after the opening hour.") % {"day": label})
        if d.day in seen:
            errors.append(_("%(day)s is given twice.") % {"day": label})
        seen.add(d.day)
    if errors:
        raise ValidationError({"days": errors})
    return sorted(days, key=lambda d: (d.day, d.opens))


@transaction.atomic
def set_pay_days(
    *, actor, month: date, days: list[DayInput], pay_point: PayPoint | None = None, route: DeliveryRoute | None = None
) -> list[PayDay]:
    """Replace the pay days of `month` at a pay point or on a route (an empty list clears them)."""
    if (pay_point is None) == (route is None):
        raise ValueError("set_pay_days: a pay point or a route")
    place = pay_point or route
    assert place is not None
    model = PayPoint if pay_point is not None else DeliveryRoute
    place = model.objects.select_for_update(of=("self",)).select_related("commune").get(pk=place.pk)
    _require(actor, place.commune)
    month = check_month(month)
    # hours are local times of the commune: a time zone sent with them is dropped
    days = [
        DayInput(day=d.day, opens=d.opens.replace(tzinfo=None), closes=d.closes.replace(tzinfo=None), note=d.note)
        for d in days
    ]
    cleaned = _clean_days(place.commune, month, days)
    owner = {"pay_point": place} if pay_point is not None else {"route": place}
    existing = PayDay.objects.filter(month=month, **owner)
    before = [f"{d.day:%Y-%m-%d} {d.opens:%H:%M}-{d.closes:%H:%M}" for d in existing]
    existing.delete()
    try:
        rows = PayDay.objects.bulk_create(
            [
                PayDay(
                    month=month,
                    day=d.day,
                    opens=d.opens,
                    closes=d.closes,
                    note=(d.note or "").strip()[:255],
                    area_path=place.area_path,
                    **owner,
                )
                for d in cleaned
            ]
        )
    except IntegrityError as exc:  # pragma: no cover - the checks above refuse these first
        raise ValidationError({"days": [_("The days could not be saved.")]}) from exc
    after = [f"{d.day:%Y-%m-%d} {d.opens:%H:%M}-{d.closes:%H:%M}" for d in cleaned]
    record(
        actor=actor,
        action="cashout.days.set",
        obj=place,
        area=place.commune,
        before={"days": before},
        after={"month": f"{month:%Y-%m}", "place": place.name, "days": after},
    )
    return rows


def days_of(place, month: date):
    """The pay days of `month` at a pay point or on a route."""
    owner = {"pay_point": place} if isinstance(place, PayPoint) else {"route": place}
    return PayDay.objects.filter(month=month.replace(day=1), **owner).order_by("day", "opens")
