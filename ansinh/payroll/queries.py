"""Reads of the payment cycle, scoped to the user's areas.

Who reads cycles and contracts: the commune officer (submits the commune's changes), the office
officer and the approver, the provider's staff, and the reading roles with reports.view
(treasury, province monitor). Another area's cycle is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap

from .models import CycleDeadline, DeadlineKind, PaymentCycle, ProviderContract

READ_CAPS = (
    Cap.PAYROLL_SUBMIT_CHANGES,
    Cap.PAYROLL_PREPARE,
    Cap.PAYROLL_APPROVE,
    Cap.PAYMENTS_PROVIDE,
    Cap.REPORTS_VIEW,
)

# Who answers for each deadline: the capabilities whose holders in the cycle's area are reminded
# and see it among their tasks.
RESPONSIBLE: dict[str, tuple[str, ...]] = {
    DeadlineKind.COMMUNE_CHANGES: (Cap.PAYROLL_SUBMIT_CHANGES,),
    DeadlineKind.PAYROLL_FUNDING: (Cap.PAYROLL_PREPARE, Cap.PAYROLL_APPROVE),
    DeadlineKind.TRANSFERS: (Cap.PAYMENTS_PROVIDE,),
    DeadlineKind.PROVIDER_SETTLEMENT: (Cap.PAYMENTS_PROVIDE, Cap.PAYROLL_PREPARE),
    DeadlineKind.OFFICE_SETTLEMENT: (Cap.PAYROLL_PREPARE,),
}


def may_read(user) -> bool:
    return any(access.has_cap(user, cap) for cap in READ_CAPS)


def _scope_q(user, caps, path_field: str = "area_path") -> Q | None:
    parts = [access.area_q(user, cap, path_field) for cap in caps]
    if any(q is None for q in parts):
        return None
    return reduce(or_, [q for q in parts if q is not None], Q(pk__in=[]))


def _scoped(qs: QuerySet, user) -> QuerySet:
    q = _scope_q(user, READ_CAPS)
    return qs if q is None else qs.filter(q)


def cycles_for(user) -> QuerySet[PaymentCycle]:
    return _scoped(PaymentCycle.objects.select_related("area", "programme", "approving_unit"), user)


def contracts_for(user) -> QuerySet[ProviderContract]:
    return _scoped(ProviderContract.objects.select_related("paying_unit", "provider"), user)


def filter_cycles(qs: QuerySet, *, month: date | None = None, state: str = "", area=None) -> QuerySet:
    if month is not None:
        qs = qs.filter(month=month.replace(day=1))
    if state:
        qs = qs.filter(state=state)
    if area is not None:
        qs = qs.filter(Q(area_path__startswith=area.path) | Q(area_id__in=area.ancestor_ids()))
    return qs


def next_deadlines(cycle_ids: list[int]) -> dict[int, CycleDeadline]:
    """The earliest deadline not yet met of each cycle (one query)."""
    out: dict[int, CycleDeadline] = {}
    for d in CycleDeadline.objects.filter(cycle_id__in=cycle_ids, done_at__isnull=True).order_by("due_date", "kind"):
        out.setdefault(d.cycle_id, d)
    return out


@dataclass
class Tasks:
    overdue: list[CycleDeadline]
    due: list[CycleDeadline]

    def __bool__(self) -> bool:
        return bool(self.overdue or self.due)


def due_and_overdue(user, today: date, horizon_days: int = 7) -> Tasks:
    """The deadlines the user answers for (by the capabilities of their roles, `RESPONSIBLE`) that
    are not met: overdue ones (due before today, up to 60 days back) and those due within
    `horizon_days`."""
    q = Q(pk__in=[])
    for kind, caps in RESPONSIBLE.items():
        scope = _scope_q(user, caps)
        q |= Q(kind=kind) if scope is None else Q(kind=kind) & scope
    rows = list(
        CycleDeadline.objects.filter(q)
        .filter(
            done_at__isnull=True,
            due_date__gte=today - timedelta(days=60),
            due_date__lte=today + timedelta(days=horizon_days),
        )
        .select_related("cycle__area", "cycle__programme", "cycle__approving_unit")
        .order_by("due_date", "kind", "cycle__area_path")[:500]
    )
    return Tasks(overdue=[d for d in rows if d.due_date < today], due=[d for d in rows if d.due_date >= today])


# --- payroll lines ----------------------------------------------------------------------------


def shown_basis(user, line, sensitive_visible: bool) -> dict:
    """The line's basis as the user may read it: the category codes are left out of a line
    under a sensitive (HIV-related) category for readers without registry.view_sensitive."""
    basis = line.basis or {}
    if basis.get("sensitive") and not sensitive_visible:
        return {"category": "", "categories": [], "explanation": basis.get("explanation", "")}
    return {
        "category": basis.get("category", ""),
        "categories": list(basis.get("categories", [])),
        "explanation": basis.get("explanation", ""),
    }


def sensitive_visible(user, cycle: PaymentCycle) -> bool:
    return access.can_in_area(user, Cap.REGISTRY_VIEW_SENSITIVE, cycle.area)


def lines_page(cycle: PaymentCycle, after: int = 0, limit: int = 100) -> list:
    """Keyset page of the cycle's lines (by id), with the beneficiary's name and commune."""
    from .models import PayrollLine

    return list(
        PayrollLine.objects.filter(cycle=cycle, pk__gt=after)
        .select_related("beneficiary", "commune")
        .order_by("pk")[:limit]
    )
