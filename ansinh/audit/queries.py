"""Reads of the audit log, scoped to the user's areas, in pages that cost the same on a log of
millions of events: keyset pages ("newer" / "older" than an event id) instead of an exact
count and OFFSET, and the action filter's choices from the catalogue of action names
(`ansinh.web.labels.ACTION_LABELS`) instead of a DISTINCT over the log.

Indexes (audit migration 0004): `(area_path varchar_pattern_ops, id)` serves the area prefix
of every scoped read, `(action, id)` the action filter; both end in the id that orders a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap

from .models import AuditEvent

PAGE_SIZE = 50


def events_for(user) -> QuerySet[AuditEvent]:
    """Events located in the areas where the user may read the log (events without an area
    only for the national administrator)."""
    return access.scope(AuditEvent.objects.all(), user, Cap.AUDIT_VIEW, path_field="area_path")


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
