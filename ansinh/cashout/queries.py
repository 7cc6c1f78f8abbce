"""Reads of pay points, routes and cash lists, scoped to the user's areas (the pages and the API
share them).

Who reads: the roles with cashout.view in the object's commune (the commune, the office, the
provider's staff, the village head, the approver and the reading roles); the provider's staff
also read the lists of the pay points and routes they staff. Another area's object is outside
every queryset here, so a page or an endpoint answers 404 for it. Who changes pay points,
routes and days and makes the lists: cashout.manage in the commune (`pay_points.may_manage`,
`lists.may_build`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.core.masking import mask_number
from ansinh.payroll.models import PaymentCycle

from .models import CashEntry, CashList, DeliveryRoute, EntryState, PayPoint


def may_view_cash(user) -> bool:
    return access.has_cap(user, Cap.CASH_VIEW)


def _area(user, path_field: str = "area_path") -> Q | None:
    return access.area_q(user, Cap.CASH_VIEW, path_field)


def pay_points_for(user) -> QuerySet[PayPoint]:
    qs = PayPoint.objects.select_related("commune")
    q = _area(user)
    if q is None:
        return qs
    if getattr(user, "pk", None):
        q |= Q(pk__in=PayPoint.objects.filter(staff=user).values("pk"))
    return qs.filter(q)


def routes_for(user) -> QuerySet[DeliveryRoute]:
    qs = DeliveryRoute.objects.select_related("commune")
    q = _area(user)
    if q is None:
        return qs
    if getattr(user, "pk", None):
        q |= Q(pk__in=DeliveryRoute.objects.filter(staff=user).values("pk"))
    return qs.filter(q)


def cash_lists_for(user) -> QuerySet[CashList]:
    qs = CashList.objects.select_related("cycle__programme", "cycle__area", "pay_point", "route", "commune")
    q = _area(user)
    if q is None:
        return qs
    if getattr(user, "pk", None):
        q |= Q(pay_point__in=PayPoint.objects.filter(staff=user).values("pk"))
        q |= Q(route__in=DeliveryRoute.objects.filter(staff=user).values("pk"))
    return qs.filter(q)


def cycles_for(user) -> QuerySet[PaymentCycle]:
    """Cycles whose cash lists the user may look at: of their areas, or with a list they read."""
    qs = PaymentCycle.objects.select_related("area", "programme", "approving_unit")
    q = _area(user)
    if q is None:
        return qs
    return qs.filter(q | Q(pk__in=cash_lists_for(user).values("cycle_id")))


def live_entries(cash_list: CashList) -> QuerySet[CashEntry]:
    """The people on a list in their order (those taken off it are not shown)."""
    return (
        CashEntry.objects.filter(cash_list=cash_list)
        .exclude(state=EntryState.CANCELLED)
        .select_related("beneficiary", "village", "representation__representative")
        .order_by("position", "id")
    )


def masked_cccd(entry: CashEntry) -> str:
    """The CCCD staff check at payment, last four digits only: the payee's (a representative's)
    when there is one, else the beneficiary's."""
    rep = entry.representation.representative if entry.representation is not None else None
    return mask_number((rep.cccd if rep is not None else "") or entry.beneficiary.cccd)


def grouped_by_village(entries) -> list[dict]:
    """Entries (already in list order) as village groups with their subtotal."""
    groups: list[dict] = []
    for e in entries:
        name = e.village.name if e.village_id else ""
        if not groups or groups[-1]["village"] != name:
            groups.append({"village": name, "entries": [], "count": 0, "total": 0})
        g = groups[-1]
        g["entries"].append(e)
        g["count"] += 1
        g["total"] += e.amount
    return groups
