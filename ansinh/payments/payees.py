"""The payee history behind the registry's payee flag, for every path that changes the flag.

The registry keeps `Representation.is_payee`, the current payee; payments keeps the
PayeeDesignation history the payroll reads (`queries.payee_on`). Besides `designate_payee`
(the payments forms and the API's payee endpoint), the flag changes wherever representatives
are written — `registry.bulk.save_representations`, the one construction path of the form,
the API, `add_representation`, the importer and the demo — and when a payee's representation
ends (`registry.services.end_representation`). Those registry writers call
`record_payee_changes` here, once per chunk, set-based.

Dependency direction: payments builds on the registry (it imports registry models and
services at module level); the registry never imports payments at module level. Its two
writers import this module inside the function that needs it — an explicit call that is
visible where the flag changes, with no signal and no registration step, and no import cycle
since the import runs only when the registry writes.

Months:
- a new beneficiary (created in the same transaction): from its start month. Nothing can have
  been paid for a person who was not registered, so every month from the start is open to
  them, including the months before the current one that a backdated start pays as arrears:
  the representative registered as payee with the beneficiary receives those too. (For an
  existing beneficiary months before the current one count as paid: `first_open_month`.)
- an existing beneficiary: the one rule of every payee path, `services.payee_change_month`
  (the default of `designate_payee`): from the next month once a payroll line exists for them
  (the current month may be in a payroll already), else from the start month. An officer who
  must change the current month uses `designate_payee` with that month.
- a beneficiary whose payee is known only by the flag (registered before designations existed,
  the case `payee_on` falls back on): the history first gets that payee from the start month,
  so the months before the change keep the payee the flag named."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from ansinh.audit.services import build_event, record_many
from ansinh.core.bulk import insert_rows
from ansinh.policy.entitlement import month_start
from ansinh.registry.models import Beneficiary, Representation

from .models import PayeeDesignation

CHUNK = 2000


@dataclass(frozen=True)
class PayeeChange:
    """The payee of `beneficiary` becomes `representation` (None: the beneficiary themself);
    `previous` is the payee the registry flag named before the change."""

    beneficiary: Beneficiary
    representation: Representation | None
    previous: Representation | None = None
    new_beneficiary: bool = False


def next_month(today: date | None = None) -> date:
    current = month_start(today or timezone.localdate())
    return date(current.year + current.month // 12, current.month % 12 + 1, 1)


def _name(b: Beneficiary, link: Representation | None) -> str:
    return link.representative.full_name if link is not None else b.full_name


def baseline(
    *, actor, beneficiaries: Sequence[tuple[Beneficiary, Representation | None]], month: date
) -> list[PayeeDesignation]:
    """Unsaved rows that start the history of beneficiaries without any designation whose
    flag names a payee: that payee from the start month (none when the start is not before
    `month`, the month of the change). One query."""
    flagged = [(b, link) for b, link in beneficiaries if link is not None and month_start(b.start_month) < month]
    if not flagged:
        return []
    ids = [b.pk for b, _link in flagged]
    known = set(PayeeDesignation.objects.filter(beneficiary_id__in=ids).values_list("beneficiary_id", flat=True))
    created_by = actor if getattr(actor, "pk", None) else None
    return [
        PayeeDesignation(
            beneficiary=b, representation=link, from_month=month_start(b.start_month), created_by=created_by
        )
        for b, link in flagged
        if b.pk not in known
    ]


def record_payee_changes(*, actor, changes: Sequence[PayeeChange], audit: bool = True) -> list[PayeeDesignation]:
    """Record the designations of payee changes the registry has made (the flag is already
    set), each from its month (module docstring): per chunk one query for the months
    (`services.payee_change_months`), per month of change one query for the histories to start
    and one UPDATE cancelling planned designations from that month on, one insert and one insert
    of audit events. Must run in the caller's transaction."""
    from .services import payee_change_months  # services imports this module

    out: list[PayeeDesignation] = []
    created_by = actor if getattr(actor, "pk", None) else None
    now = timezone.now()
    for start in range(0, len(changes), CHUNK):
        chunk = changes[start : start + CHUNK]
        existing = [c for c in chunk if not c.new_beneficiary]
        months = payee_change_months([c.beneficiary for c in existing]) if existing else {}
        by_month: dict[date, list[PayeeChange]] = {}
        for c in existing:
            by_month.setdefault(months[c.beneficiary.pk], []).append(c)
        rows: list[PayeeDesignation] = []
        for month, group in by_month.items():  # a handful of months: the next one, start months
            rows += baseline(actor=actor, beneficiaries=[(c.beneficiary, c.previous) for c in group], month=month)
            PayeeDesignation.objects.filter(
                beneficiary_id__in=[c.beneficiary.pk for c in group],
                from_month__gte=month,
                cancelled_at__isnull=True,
            ).update(cancelled_at=now)
        events = []
        for c in chunk:
            b = c.beneficiary
            from_month = month_start(b.start_month) if c.new_beneficiary else months[b.pk]
            row = PayeeDesignation(
                beneficiary=b, representation=c.representation, from_month=from_month, created_by=created_by
            )
            rows.append(row)
            out.append(row)
            if audit:
                events.append(
                    build_event(
                        actor=actor,
                        action="payments.payee.designated",
                        obj=b,
                        area=b.village or b.commune,
                        before={"payee": _name(b, c.previous)},
                        after={"payee": _name(b, c.representation), "from_month": from_month.isoformat()},
                    )
                )
        insert_rows(PayeeDesignation, rows)
        if events:
            record_many(events)
    return out
