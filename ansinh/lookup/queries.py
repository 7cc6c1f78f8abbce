"""Reads of ansinh.lookup: counts of the public lookups for officers with audit.view, scoped to
their areas through the beneficiary found (a lookup that found nobody belongs to no area: only a
reader whose audit.view holds everywhere sees those). Never a CCCD, never a client."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.roles import Cap

from .models import LookupLog, LookupOutcome

DAYS = 30
OUTCOMES = [(value, label) for value, label in LookupOutcome.choices]


@dataclass
class DayCounts:
    day: dt.date
    counts: list[int]  # in the order of OUTCOMES
    total: int


def logs_for(user):
    return access.scope(LookupLog.objects.all(), user, Cap.AUDIT_VIEW, path_field="beneficiary__area_path")


def counts_per_day(user, *, days: int = DAYS, today: dt.date | None = None) -> list[DayCounts]:
    """The last `days` days with at least one lookup, newest first: counts per outcome."""
    today = today or timezone.localdate()
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time.min))
    rows = (
        logs_for(user)
        .filter(at__gte=since)
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values("day", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_day: dict[dt.date, dict[str, int]] = {}
    for row in rows:
        per_day.setdefault(row["day"], {})[row["outcome"]] = row["n"]
    return [
        DayCounts(day, [found.get(value, 0) for value, _label in OUTCOMES], sum(found.values()))
        for day, found in sorted(per_day.items(), reverse=True)
    ]
