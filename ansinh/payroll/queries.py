"""Reads of the payment cycle, scoped to the user's areas.

Who reads cycles and contracts: the commune officer (submits the commune's changes), the office
officer and the approver, the provider's staff, and the reading roles with reports.view
(treasury, province monitor). Another area's cycle is a 404.

The pre-2025 history: a user who reads in current areas also reads the pre-2025 areas that went
whole into them (`areas.queries.LegacyInheritance`: every commune of the area succeeded into
communes there), so the province office of today reads the 2023 cycles of the districts it
inherited, and a commune officer the 2023 change lists and lines of the pre-2025 communes that
went wholly into their commune (not a district's cycle split among several communes). Reading
only: the capabilities to act stay on the user's own areas (`access.can_in_area`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.queries import LegacyInheritance

from .models import CycleDeadline, DeadlineKind, PaymentCycle, PayrollLine, ProviderContract

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


_INHERITED_ATTR = "_ansinh_payroll_inherited"


def read_paths(user, cap: str) -> list[str] | None:
    """The area paths where the user reads with `cap`: those of their roles, and the pre-2025
    areas that went whole into them; None means everywhere. Loaded once per user object (two
    small queries, `LegacyInheritance`), for the paths of all the reading capabilities."""
    if access.everywhere(user, cap):
        return None
    paths = access.paths_with(user, cap)
    if not paths:
        return []
    cached = getattr(user, _INHERITED_ATTR, None)
    every = sorted({p for c in (*READ_CAPS, Cap.REGISTRY_VIEW_SENSITIVE, cap) for p in access.paths_with(user, c)})
    if cached is None or cached[0] != every:
        cached = (every, LegacyInheritance(every), {})
        setattr(user, _INHERITED_ATTR, cached)
    answers: dict[tuple, list[str]] = cached[2]
    key = tuple(paths)
    if key not in answers:
        answers[key] = cached[1].under(paths)
    return paths + [p for p in answers[key] if not any(p.startswith(k) for k in paths)]


def reads_in_area(user, cap: str, area) -> bool:
    """`cap` holds for reading in `area` (its own areas, or a pre-2025 area inherited whole)."""
    paths = read_paths(user, cap)
    return paths is None or (area is not None and any(area.path.startswith(p) for p in paths))


def _scope_q(user, caps, path_field: str = "area_path", inherited: bool = True) -> Q | None:
    """A Q limiting `path_field` to the areas where the user reads with any of `caps` (with the
    pre-2025 areas inherited whole, unless `inherited` is False); None means unrestricted."""
    if not inherited:
        parts = [access.area_q(user, cap, path_field) for cap in caps]
        if any(q is None for q in parts):
            return None
        return reduce(or_, [q for q in parts if q is not None], Q(pk__in=[]))
    q = Q(pk__in=[])
    for cap in caps:
        paths = read_paths(user, cap)
        if paths is None:
            return None
        for path in paths:
            q |= Q(**{f"{path_field}__startswith": path})
    return q


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
        scope = _scope_q(user, caps, inherited=False)  # deadlines are answered in one's own areas
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
    return reads_in_area(user, Cap.REGISTRY_VIEW_SENSITIVE, cycle.area)


def lines_for(user) -> QuerySet[PayrollLine]:
    """The payroll lines of the user's areas (by the line's commune path: a 2023 line carries
    its pre-2025 commune), whatever cycle holds them."""
    return _scoped(PayrollLine.objects.select_related("cycle", "beneficiary", "commune"), user)


def lines_page(cycle: PaymentCycle, after: int = 0, limit: int = 100) -> list:
    """Keyset page of the cycle's lines (by id), with the beneficiary's name and commune."""
    return list(
        PayrollLine.objects.filter(cycle=cycle, pk__gt=after)
        .select_related("beneficiary", "commune")
        .order_by("pk")[:limit]
    )
