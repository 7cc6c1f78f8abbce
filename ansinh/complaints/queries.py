"""Reads of complaints, scoped to the user's areas (the pages and the API share them).

Who sees what: the commune and the office (a role carrying complaints.view that is not the
provider's) see every complaint of their areas; the provider's staff only those routed to the
provider in their areas; readers (complaints.view without complaints.handle: the approver, the
province monitor) read the same without acting. Who acts: complaints.handle in the complaint's
commune, for the provider's staff only on what is routed to the provider. Another area's complaint
is outside every queryset here, so a page or an endpoint answers 404 for it."""

from __future__ import annotations

from datetime import date
from functools import reduce
from operator import or_

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.models import RoleAssignment, User
from ansinh.accounts.roles import ROLE_CAPABILITIES, Cap, Role
from ansinh.areas.models import Area, Level

from .models import OPEN, Complaint, RoutedTo, State


def _paths(user, cap: str) -> tuple[list[str], list[str]]:
    """(area paths where `cap` holds through a role other than the provider's, paths where it
    holds only through the provider's staff role)."""
    full: set[str] = set()
    provider: set[str] = set()
    for role, path, _id in access._grants(user):
        if cap not in ROLE_CAPABILITIES.get(role, ()):
            continue
        (provider if role == Role.PROVIDER_STAFF else full).add(path)
    return sorted(full), sorted(p for p in provider if not any(p.startswith(f) for f in full))


def _scope_q(user, cap: str, path_field: str = "area_path") -> Q:
    full, provider = _paths(user, cap)
    parts = [Q(**{f"{path_field}__startswith": p}) for p in full]
    parts += [Q(**{f"{path_field}__startswith": p}, routed_to=RoutedTo.PROVIDER) for p in provider]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def may_see(user) -> bool:
    return access.has_cap(user, Cap.COMPLAINTS_VIEW)


def complaints_for(user) -> QuerySet[Complaint]:
    return Complaint.objects.filter(_scope_q(user, Cap.COMPLAINTS_VIEW)).select_related(
        "commune", "assignee", "beneficiary"
    )


def may_handle(user, complaint: Complaint) -> bool:
    return Complaint.objects.filter(_scope_q(user, Cap.COMPLAINTS_HANDLE), pk=complaint.pk).exists()


def handling_communes(user) -> QuerySet[Area]:
    """The communes where the user takes complaints in (the staff form's choices)."""
    paths = access.paths_with(user, Cap.COMPLAINTS_HANDLE)
    if not paths:
        return Area.objects.none()
    q = reduce(or_, (Q(path__startswith=p) for p in paths))
    return Area.objects.filter(q, level=Level.COMMUNE).valid_on(timezone.localdate()).order_by("path")


def current_communes(province_id: int | None = None) -> QuerySet[Area]:
    """The communes a person may choose on the public site: those of the tree in force today."""
    qs = Area.objects.filter(level=Level.COMMUNE).valid_on(timezone.localdate())
    if province_id:
        province = Area.objects.filter(pk=province_id, level=Level.PROVINCE).first()
        qs = qs.filter(path__startswith=province.path) if province else qs.none()
    return qs.order_by("name_key")


def current_provinces() -> QuerySet[Area]:
    return Area.objects.filter(level=Level.PROVINCE).valid_on(timezone.localdate()).order_by("name_key")


def assignees_for(complaint: Complaint) -> QuerySet[User]:
    """Users who may handle the complaint: an active role carrying complaints.handle on its
    commune or above (the provider's staff only for what is routed to the provider)."""
    roles = [r for r, caps in ROLE_CAPABILITIES.items() if Cap.COMPLAINTS_HANDLE in caps]
    if complaint.routed_to != RoutedTo.PROVIDER:
        roles = [r for r in roles if r != Role.PROVIDER_STAFF]
    path = complaint.commune.path
    ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/" and i > 0]
    user_ids = (
        RoleAssignment.objects.active()
        .filter(role__in=roles, area__path__in=ancestors, user__is_active=True)
        .values("user_id")
    )
    return User.objects.filter(pk__in=user_ids).order_by("full_name", "username")


def filter_complaints(
    qs: QuerySet,
    *,
    state: str = "",
    commune_id: int | None = None,
    routed_to: str = "",
    overdue: bool = False,
    kind: str = "",
    today: date | None = None,
) -> QuerySet:
    """`state`: a State value, "open" (lodged or in progress) or empty for all."""
    if state == "open":
        qs = qs.filter(state__in=OPEN)
    elif state:
        qs = qs.filter(state=state)
    if commune_id:
        qs = qs.filter(commune_id=commune_id)
    if routed_to:
        qs = qs.filter(routed_to=routed_to)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = overdue_only(qs, today)
    return qs


def overdue_only(qs: QuerySet, today: date | None = None) -> QuerySet:
    return qs.filter(state__in=OPEN, due_on__lt=today or timezone.localdate())


def counts(qs: QuerySet, today: date | None = None) -> dict:
    """The register's counts: per commune (total, open, overdue, per state) and per state. Two
    queries."""
    today = today or timezone.localdate()
    per_commune: dict[int, dict] = {}
    rows = qs.order_by().values("commune_id", "commune__name", "state").annotate(n=Count("id"))
    overdue = dict(
        overdue_only(qs, today).order_by().values("commune_id").annotate(n=Count("id")).values_list("commune_id", "n")
    )
    per_state: dict[str, int] = {}
    for row in rows:
        entry = per_commune.setdefault(
            row["commune_id"],
            {"commune_id": row["commune_id"], "commune": row["commune__name"], "total": 0, "open": 0, "states": {}},
        )
        entry["total"] += row["n"]
        entry["states"][row["state"]] = row["n"]
        if row["state"] in OPEN:
            entry["open"] += row["n"]
        per_state[row["state"]] = per_state.get(row["state"], 0) + row["n"]
    for commune_id, entry in per_commune.items():
        entry["overdue"] = overdue.get(commune_id, 0)
        entry["cells"] = [(state, entry["states"].get(state, 0)) for state in State.values]
    communes = sorted(per_commune.values(), key=lambda e: e["commune"])
    return {
        "communes": communes,
        "states": per_state,
        "state_cells": [(state, per_state.get(state, 0)) for state in State.values],
        "total": sum(per_state.values()),
        "open": sum(per_state.get(state, 0) for state in OPEN),
        "overdue": sum(overdue.values()),
    }


def lines_of(complaint: Complaint):
    """The payroll lines the complaint may be linked to: its beneficiary's, in its commune,
    newest month first (the last 24)."""
    from ansinh.payroll.models import PayrollLine

    if complaint.beneficiary_id is None:
        return PayrollLine.objects.none()
    return (
        PayrollLine.objects.filter(beneficiary_id=complaint.beneficiary_id, commune_id=complaint.commune_id)
        .select_related("cycle__programme")
        .order_by("-cycle__month", "-id")[:24]
    )


def exceptions_of(complaint: Complaint):
    """The transfer exceptions of those lines (same commune)."""
    from ansinh.disbursement.models import TransferException

    if complaint.beneficiary_id is None:
        return TransferException.objects.none()
    return (
        TransferException.objects.filter(line__beneficiary_id=complaint.beneficiary_id, commune_id=complaint.commune_id)
        .select_related("batch__cycle", "line")
        .order_by("-created_at", "-id")[:24]
    )
