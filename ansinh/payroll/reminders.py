"""Reminders of payment-cycle deadlines to the officers who answer for them, through the
notification outbox (in the application, and by SMS to those with a mobile number).

- before: from `remind_days_before` working days before the due date (the province's calendar,
  default 1) until the due date, once;
- overdue: from the day after a missed due date, once (within a week, so a worker that was down
  catches up, and old cycles do not flood anyone).

Who: the users whose active roles carry a capability of `queries.RESPONSIBLE[kind]` on the
cycle's area or above it (commune officer for the commune's changes; office officer and approver
for the payroll and funding request; the provider's staff for transfers and settlement…).

One message per person, deadline kind, approving unit, month and moment (the cycles of two
programmes of the same unit share their due dates): the idempotency key says exactly that, so a
re-run, or two workers at once, never send anything twice. Texts name no programme and no
person paid."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from django.db import transaction
from django.utils import timezone, translation

from ansinh.accounts.models import OrgUnit, RoleAssignment, User
from ansinh.accounts.roles import ROLE_CAPABILITIES
from ansinh.areas.models import Area
from ansinh.notifications.models import Channel, Message
from ansinh.notifications.services import NotificationError, Outgoing, queue_many
from ansinh.registry.validation import can_receive_sms

from .calendar import working_days_before
from .models import CycleDeadline, DeadlineKind, PaymentCalendar
from .queries import RESPONSIBLE
from .services import province_id_of

OVERDUE_WINDOW_DAYS = 7
BEFORE_WINDOW_DAYS = 31  # the furthest a reminder can be (10 working days) with holidays between


def _roles_for(kind: str) -> set[str]:
    caps = set(RESPONSIBLE[kind])
    return {role for role, role_caps in ROLE_CAPABILITIES.items() if caps & role_caps}


@dataclass(frozen=True)
class _Due:
    kind: str
    due_date: date
    area_path: str
    unit_id: int
    month: date
    area_id: int


def _key(when: str, d: _Due, user_id: int, channel: str) -> str:
    return f"payroll:{when}:{d.kind}:{d.unit_id}:{d.month:%Y%m}:{user_id}:{channel}"


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def send_cycle_reminders(*, today: date | None = None, actor=None) -> dict:
    """Queue the reminders due today; returns counts. Safe to run any number of times a day.
    Reads the open deadlines as plain tuples, keeps those with someone to tell, and queues only
    the messages not already in the outbox (one look-up for all their keys)."""
    today = today or timezone.localdate()
    # active assignments of the roles that answer for a deadline, by area path
    roles = set().union(*(_roles_for(k) for k in DeadlineKind.values))
    by_path: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for user_id, role, path, phone in (
        RoleAssignment.objects.active(today)
        .filter(role__in=roles, user__is_active=True)
        .values_list("user_id", "role", "area__path", "user__phone")
    ):
        by_path[path].append((user_id, role, phone))
    kind_roles = {k: _roles_for(k) for k in DeadlineKind.values}
    rows = CycleDeadline.objects.filter(
        done_at__isnull=True,
        due_date__gte=today - timedelta(days=OVERDUE_WINDOW_DAYS),
        due_date__lte=today + timedelta(days=BEFORE_WINDOW_DAYS),
    ).values_list("kind", "due_date", "area_path", "cycle__approving_unit_id", "cycle__month", "cycle__area_id")
    deadlines = [_Due(*row) for row in rows]
    provinces = {province_id_of(d.area_path) for d in deadlines}
    remind = dict(
        PaymentCalendar.objects.filter(province_id__in=provinces).values_list("province_id", "remind_days_before")
    )
    reminder_day = lru_cache(maxsize=None)(working_days_before)

    wanted: dict[str, tuple[str, _Due, int, str, str]] = {}
    for d in deadlines:
        people = [p for prefix in _prefixes(d.area_path) for p in by_path.get(prefix, ()) if p[1] in kind_roles[d.kind]]
        if not people:
            continue
        if d.due_date < today:
            when = "overdue"
        else:
            days = remind.get(province_id_of(d.area_path), 1)
            if days <= 0 or today < reminder_day(d.due_date, days):
                continue
            when = "before"
        for user_id, _role, phone in people:
            wanted.setdefault(_key(when, d, user_id, Channel.IN_APP), (when, d, user_id, Channel.IN_APP, ""))
            if can_receive_sms(phone):
                wanted.setdefault(_key(when, d, user_id, Channel.SMS), (when, d, user_id, Channel.SMS, phone))
    sent = set(Message.objects.filter(idempotency_key__in=list(wanted)).values_list("idempotency_key", flat=True))
    todo = {key: item for key, item in wanted.items() if key not in sent}
    users = User.objects.in_bulk({item[2] for item in todo.values()})
    units = OrgUnit.objects.in_bulk({item[1].unit_id for item in todo.values()})
    areas = Area.objects.in_bulk({item[1].area_id for item in todo.values()})
    counts = {"deadlines": len(deadlines), "before": 0, "overdue": 0, "already_sent": len(sent), "not_sent": 0}
    messages = []
    with translation.override("vi"):
        for key, (when, d, user_id, channel, phone) in todo.items():
            unit = units[d.unit_id]
            variables = {
                "task": str(DeadlineKind(d.kind).label),
                "place": (unit.short_name or unit.name)[:160],
                "month": f"{d.month:%m/%Y}",
                "date": f"{d.due_date:%d/%m/%Y}",
            }
            messages.append(
                Outgoing(
                    key="payroll.deadline_missed" if when == "overdue" else "payroll.deadline_soon",
                    variables=variables,
                    idempotency_key=key,
                    area=areas[d.area_id],
                    user=users[user_id],
                    phone=phone,
                    channel=channel,
                )
            )
    # one bulk insert per chunk (notifications.services.queue_many), not one queue per message
    with transaction.atomic():
        results = queue_many(actor=actor, messages=messages)
    for (when, *_rest), result in zip(todo.values(), results, strict=True):
        if isinstance(result, NotificationError):  # a text too long for an SMS: the in-app notice still goes
            counts["not_sent"] += 1
        else:
            counts[when] += 1
    return counts
