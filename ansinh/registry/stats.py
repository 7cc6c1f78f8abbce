"""The registry's figures for the dashboard, per commune, scoped to the user's areas.

Each figure is counted by the same condition the list it links to filters on
(`queries.SearchParams`): people receiving (status), started and stopped this month
(`queries.started_in` / `stopped_in`), records with data-quality issues (`has_issues`). Imports
still running and people moving in come from their own lists. Everything is counted set-based,
grouped by commune: one query over the beneficiaries in scope, one over the import jobs, one over
the incoming moves, and one for the communes' names, however many communes there are."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

from django.db.models import Count, Q
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level

from . import queries
from .import_jobs import FINAL
from .models import ImportJob, Status


@dataclass
class Figures:
    receiving: int = 0
    started: int = 0
    stopped: int = 0
    issues: int = 0
    imports: int = 0
    moving_in: int = 0

    def __iadd__(self, other: Figures) -> Figures:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


@dataclass
class CommuneFigures:
    commune: Area
    figures: Figures
    # the commune as the list's area filter; None where the user's areas lie below the commune
    # (a village head), whose lists are already limited to their villages
    area_filter: int | None


@dataclass
class Dashboard:
    month: date
    rows: list[CommuneFigures]
    total: Figures = field(default_factory=Figures)

    @property
    def single(self) -> bool:
        """One commune: figures on their own rather than a table."""
        return len(self.rows) == 1


def commune_figures(user, month: date | None = None) -> Dashboard | None:
    """The figures of `month` (this month by default) for each commune in the user's areas where
    they may view the registry: every commune of their areas valid today, and any other commune
    that has figures (e.g. one that ceased to exist but still holds people); for a national
    administrator, who reads every area, only the communes that have figures. None for a user
    who may not view the registry."""
    if not access.has_cap(user, Cap.REGISTRY_VIEW):
        return None
    month = month or queries.this_month()
    by_commune: dict[int, Figures] = {}

    def at(commune_id: int) -> Figures:
        return by_commune.setdefault(commune_id, Figures())

    people = (
        queries.beneficiaries_for(user)
        .order_by()
        .values("commune_id")
        .annotate(
            receiving=Count("id", filter=Q(status=Status.ACTIVE)),
            started=Count("id", filter=queries.started_in(month)),
            stopped=Count("id", filter=queries.stopped_in(month)),
            issues=Count("id", filter=Q(has_issues=True)),
        )
    )
    for row in people:
        figures = at(row["commune_id"])
        figures.receiving, figures.started = row["receiving"], row["started"]
        figures.stopped, figures.issues = row["stopped"], row["issues"]
    imports = access.scope(ImportJob.objects.exclude(status__in=FINAL), user, Cap.REGISTRY_VIEW, "area_path")
    for commune_id, n in imports.order_by().values_list("commune_id").annotate(n=Count("id")):
        at(commune_id).imports = n
    moves = queries.incoming_moves_for(user).order_by().values_list("to_commune_id").annotate(n=Count("id"))
    for commune_id, n in moves:
        at(commune_id).moving_in = n

    paths = access.paths_with(user, Cap.REGISTRY_VIEW)
    everywhere = access.everywhere(user, Cap.REGISTRY_VIEW)
    today = Area.objects.valid_on(timezone.localdate()).filter(level=Level.COMMUNE)
    scoped = access.scope(today, user, Cap.REGISTRY_VIEW, path_field="path")
    if everywhere:
        scoped = scoped.none()
    # the commune of a village where the user holds a role (a village head)
    above = [int(p.strip("/").split("/")[-2]) for p in paths if p.count("/") > 2]
    communes = (
        Area.objects.filter(Q(pk__in=by_commune) | Q(pk__in=scoped.values("pk")) | Q(pk__in=above, level=Level.COMMUNE))
        .select_related("parent")
        .order_by("parent__name_key", "name_key", "id")
    )
    dashboard = Dashboard(month=month, rows=[])
    for commune in communes:
        figures = by_commune.get(commune.pk, Figures())
        within = everywhere or any(commune.path.startswith(p) for p in paths)
        dashboard.rows.append(CommuneFigures(commune, figures, commune.pk if within else None))
        dashboard.total += figures
    return dashboard
