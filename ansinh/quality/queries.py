"""Reads of the worklists, scoped to the areas where the user holds `quality.view` (commune
officer and police, office officer, province monitor): open items, their counts per kind, and
the communes whose worklists the user may open."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.registry import queries as registry_queries

from .models import Kind, WorklistItem


def may_read(user) -> bool:
    return access.has_cap(user, Cap.QUALITY_VIEW)


def items_for(user) -> QuerySet[WorklistItem]:
    """Every item (open or closed) in the user's areas."""
    q = access.area_q(user, Cap.QUALITY_VIEW, path_field="area_path")
    qs = WorklistItem.objects.all()
    return qs if q is None else qs.filter(q)


def open_items_for(user) -> QuerySet[WorklistItem]:
    return items_for(user).filter(closed_at__isnull=True)


def counts(items: QuerySet[WorklistItem]) -> dict[str, int]:
    """Open items per kind (every kind, zeros included), in the order of `Kind`."""
    found = dict(items.filter(closed_at__isnull=True).order_by().values_list("kind").annotate(n=Count("id")))
    return {kind: found.get(kind, 0) for kind in Kind.values}


def communes_for(user) -> QuerySet[Area]:
    return access.areas_for(user, Cap.QUALITY_VIEW).filter(level=Level.COMMUNE).order_by("name_key")


def visible_others(user, items) -> set[int]:
    """The "other record" ids of duplicate items that the user may open (another commune's
    record number is never shown)."""
    others = {i.detail["other"] for i in items if isinstance(i.detail, dict) and i.detail.get("other")}
    if not others:
        return set()
    return set(registry_queries.beneficiaries_for(user).filter(pk__in=others).values_list("pk", flat=True))
