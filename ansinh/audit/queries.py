"""Reads of the audit log, scoped to the user's areas, in pages that cost the same on a log of
millions of events: keyset pages ("newer" / "older" than an event id) instead of an exact
count and OFFSET, and the action filter's choices from the catalogue of action names
(`ansinh.web.labels.ACTION_LABELS`) instead of a DISTINCT over the log.

Indexes: `(area_path varchar_pattern_ops, id)` serves the area prefix of every scoped read,
`(action, area_path, id)` the action filter (migration 0004), `(actor, id)` the user filter
(migration 0005); all end in the id that orders a page. A person's events are few (tens), read
through `(object_type, object_id, at)` and sorted. A date range becomes a range of ids
(`id_bounds`: two reads of the `at` index), so it narrows whichever index serves the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.roles import Cap

from .models import AuditEvent

PAGE_SIZE = 50


def events_for(user) -> QuerySet[AuditEvent]:
    """Events located in the areas where the user may read the log (events without an area
    only for the national administrator), and in the pre-2025 communes whose records their
    current communes took over: a commune merged whole into one of them, or a split one whose
    seat it received (where the old commune's unassigned villages and records went). So a
    commune officer after the 2025 reform reads the history of their own people."""
    q = access.area_q(user, Cap.AUDIT_VIEW, "area_path")
    if q is None:
        return AuditEvent.objects.all()
    for path in _predecessor_paths(user):
        q |= Q(area_path__startswith=path)
    return AuditEvent.objects.filter(q)


def _predecessor_paths(user) -> list[str]:
    from ansinh.areas.models import AreaSuccession, Share

    paths = access.paths_with(user, Cap.AUDIT_VIEW)
    if not paths:
        return []
    mine = Q()
    for path in paths:
        mine |= Q(successor__path__startswith=path)
    taken_over = AreaSuccession.objects.filter(mine).filter(Q(share=Share.WHOLE) | Q(seat=True))
    return sorted(set(taken_over.values_list("legacy__path", flat=True)))


@dataclass
class EventFilter:
    """What the audit list is narrowed to; every part optional."""

    area_path: str = ""
    action: str = ""
    actor_id: int | None = None
    # (object type, object ids): a person's events (`person_objects`)
    objects: list[tuple[str, list[str]]] = field(default_factory=list)
    since: dt.date | None = None  # first day, inclusive
    until: dt.date | None = None  # last day, inclusive


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _first_id_from(moment: dt.datetime) -> int | None:
    return AuditEvent.objects.filter(at__gte=moment).order_by("at").values_list("id", flat=True).first()


def id_bounds(since: dt.date | None, until: dt.date | None) -> tuple[int | None, int | None] | None:
    """The ids of the events recorded from `since` to `until` (local days, inclusive) as
    (lowest id, first id after the range), either None when unbounded; None when no event can
    be in the range. Ids grow with time (events are appended), so an id range is a time range
    read along the index that orders the page, on a log of any size."""
    low = high = None
    if since is not None:
        low = _first_id_from(_day_start(since))
        if low is None:
            return None  # nothing recorded since then
    if until is not None:
        high = _first_id_from(_day_start(until + dt.timedelta(days=1)))
    if low is not None and high is not None and high <= low:
        return None
    return low, high


def filtered(qs: QuerySet[AuditEvent], f: EventFilter) -> QuerySet[AuditEvent]:
    """`qs` narrowed by `f`; an impossible filter (a person without events, an empty date
    range) gives an empty queryset without reading the log."""
    if f.area_path:
        qs = qs.filter(area_path__startswith=f.area_path)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.actor_id is not None:
        qs = qs.filter(actor_id=f.actor_id)
    if f.objects:
        wanted = [(t, ids) for t, ids in f.objects if ids]
        if not wanted:
            return qs.none()
        q = Q()
        for object_type, ids in wanted:
            q |= Q(object_type=object_type, object_id__in=ids)
        qs = qs.filter(q)
    if f.since is not None or f.until is not None:
        bounds = id_bounds(f.since, f.until)
        if bounds is None:
            return qs.none()
        low, high = bounds
        if low is not None:
            qs = qs.filter(id__gte=low)
        if high is not None:
            qs = qs.filter(id__lt=high)
    return qs


def person_objects(user, *, beneficiary_ids: list[int]) -> list[tuple[str, list[str]]]:
    """The audit objects of beneficiaries the user may read: their own events, their
    representatives' links and the representatives themselves. Ids outside the user's areas are
    dropped (their events are not the user's to read)."""
    from ansinh.registry.models import Representation
    from ansinh.registry.queries import beneficiaries_for

    ids = list(beneficiaries_for(user).filter(pk__in=beneficiary_ids).values_list("pk", flat=True))
    links = list(Representation.objects.filter(beneficiary_id__in=ids).values_list("pk", "representative_id"))
    return [
        ("registry.beneficiary", [str(i) for i in ids]),
        ("registry.representation", [str(pk) for pk, _r in links]),
        ("registry.representative", sorted({str(r) for _pk, r in links})),
    ]


PERSON_MATCHES = 20  # a search box resolves to at most this many people


def search_people(user, text: str) -> list[int]:
    """Beneficiaries found by a name, a CCCD or a phone number in the user's areas (the
    registry's search), at most `PERSON_MATCHES`, best first."""
    from ansinh.registry.queries import SearchParams, search

    return [b.pk for b in search(user, SearchParams(q=text))[:PERSON_MATCHES]]


@dataclass
class EventPage:
    events: list[AuditEvent]
    newer: int | None  # cursor of the "newer" link (events after this id); None: this is the newest page
    older: int | None  # cursor of the "older" link (events before this id); None: nothing older
    first: bool  # the newest page (no cursor)


def page_of(
    qs: QuerySet[AuditEvent], *, older_than: int | None = None, newer_than: int | None = None, size: int = PAGE_SIZE
) -> EventPage:
    """One page of `qs`, newest first: the newest events, those just before `older_than` or
    just after `newer_than` (ids). Each page is one query of `size + 1` rows, whatever its
    place in the log."""
    if newer_than is not None:
        rows = list(qs.filter(id__gt=newer_than).order_by("id")[: size + 1])
        if rows:
            more_newer = len(rows) > size
            rows = rows[:size][::-1]
            return EventPage(rows, newer=rows[0].pk if more_newer else None, older=rows[-1].pk, first=False)
        older_than = None  # nothing newer any more: the newest page
    if older_than is not None:
        rows = list(qs.filter(id__lt=older_than).order_by("-id")[: size + 1])
        page = rows[:size]
        newer = page[0].pk if page else older_than - 1
        return EventPage(page, newer=newer, older=page[-1].pk if len(rows) > size else None, first=False)
    rows = list(qs.order_by("-id")[: size + 1])
    page = rows[:size]
    return EventPage(page, newer=None, older=page[-1].pk if len(rows) > size else None, first=True)
