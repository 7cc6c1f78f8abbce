"""The notification service: queue a message (rendered now, sent after the commit), send what
is due through the gateway within the daily sending window, retry with backoff, follow
deliveries.

Any service of the system notifies a person with `queue(...)` (many people: `queue_many(...)`,
one bulk insert per chunk) inside its own transaction: when
that transaction rolls back, the row disappears and nothing was sent; when it commits, the
message is handed to the background task (`tasks.send_notifications_task`). The command
`send_notifications` (run by cron or the worker) sends whatever is still due, so nothing is lost
if the task did not run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.audit.services import build_event, record, record_many
from ansinh.core.bulk import insert_rows
from ansinh.core.text import search_key
from ansinh.registry.validation import can_receive_sms

from .gateways import GatewayError, get_gateway
from .models import Channel, Message, MessageStatus
from .sms import prepare
from .templates import template

log = logging.getLogger(__name__)

# words that never appear in a notification's variables (accent-free, lower case)
FORBIDDEN_WORDS = ("hiv", "aids", "nhiem hiv", "doi tuong", "category")


class NotificationError(ValueError):
    """A message that cannot be built: unknown template, wrong or forbidden variables, too long."""


CHUNK = 2000


def _category_keys() -> set[str]:
    """The category codes and names (accent-free), which no variable may be. One query."""
    from ansinh.policy.models import Category

    return {
        search_key(v)
        for code, vi, en in Category.objects.values_list("code", "name_vi", "name_en")
        for v in (code, vi, en)
        if v
    }


class _Checks:
    """What a batch of messages shares: the category keys (read once), the verdict on each value
    already checked (the month, the amount, the bank repeat in every message of a batch) and the
    Vietnamese text of each template."""

    def __init__(self) -> None:
        self.categories = _category_keys()
        self.category_like: dict[str, bool] = {}
        self.texts: dict[str, str] = {}

    def looks_like_category(self, text: str) -> bool:
        found = self.category_like.get(text)
        if found is None:
            key_text = search_key(text)
            padded = f" {key_text} "
            found = any(f" {w} " in padded for w in FORBIDDEN_WORDS) or key_text in self.categories
            if len(self.category_like) < 10_000:
                self.category_like[text] = found
        return found

    def text_of(self, key: str) -> str:
        text = self.texts.get(key)
        if text is None:
            with translation.override("vi"):
                text = self.texts[key] = str(template(key).text)
        return text


def _check_variables(key: str, variables: dict, checks: _Checks | None = None) -> dict[str, str]:
    expected = template(key).variables
    given = set(variables)
    if given != expected:
        missing, extra = sorted(expected - given), sorted(given - expected)
        raise NotificationError(f"template {key!r}: missing {missing}, not taken {extra}")
    if checks is None:
        checks = _Checks()
    clean: dict[str, str] = {}
    for name, value in variables.items():
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise NotificationError(f"variable {name!r} must be a text or a number")
        text = str(value)
        if len(text) > 160:
            raise NotificationError(f"variable {name!r} is too long")
        if checks.looks_like_category(text):
            raise NotificationError(f"variable {name!r} looks like a category: notifications never name one")
        clean[name] = text
    return clean


def render(key: str, variables: dict, *, channel: str = Channel.SMS) -> str:
    """The template in Vietnamese with its variables, as queued: an SMS with the brand in front
    (`branded`; its diacritics go only when `sms.prepare` fits it to the SMS alphabet), a message
    in the application or on the village head's list without it."""
    text = _render(key, _check_variables(key, variables))
    return branded(text) if channel == Channel.SMS else text


def branded(body: str) -> str:
    """The configured brand (`settings.ANSINH_SMS_BRANDNAME`) in front of an SMS, "ANSINH: <body>";
    the texts never carry it themselves. None when the brand is empty."""
    brand = settings.ANSINH_SMS_BRANDNAME
    return f"{brand}: {body}" if brand else body


def _render(key: str, clean: dict[str, str], checks: _Checks | None = None) -> str:
    if checks is not None:
        return checks.text_of(key) % clean
    with translation.override("vi"):
        return str(template(key).text) % clean


@dataclass
class Recipient:
    phone: str = ""
    beneficiary: object | None = None
    representative: object | None = None
    user: object | None = None


@dataclass(frozen=True)
class Outgoing:
    """One message for `queue_many` (the arguments of `queue`)."""

    key: str
    variables: dict
    idempotency_key: str
    area: Any = None  # an Area
    phone: str = ""
    beneficiary: Any = None  # at most one of these three
    representative: Any = None
    user: Any = None
    channel: str = Channel.SMS
    # the person by id alone, for a batch that has not loaded them (give `phone` and `area` then)
    beneficiary_id: int | None = None
    representative_id: int | None = None


def queue(
    *,
    actor,
    key: str,
    variables: dict,
    idempotency_key: str,
    area=None,
    phone: str = "",
    beneficiary=None,
    representative=None,
    user=None,
    channel: str = Channel.SMS,
) -> Message:
    """Queue one message. The same `idempotency_key` again returns the row already queued (sent
    or not) and queues nothing. An SMS to a number that cannot receive one (none, a landline) is
    stored as failed with the reason, never sent. Sent after the caller's transaction commits.
    A message that cannot be built raises NotificationError. (`queue_many` of one message.)"""
    spec = Outgoing(
        key=key,
        variables=variables,
        idempotency_key=idempotency_key,
        area=area,
        phone=phone,
        beneficiary=beneficiary,
        representative=representative,
        user=user,
        channel=channel,
    )
    (result,) = queue_many(actor=actor, messages=[spec])
    if isinstance(result, NotificationError):
        raise result
    return result


def queue_many(*, actor, messages: Sequence[Outgoing]) -> list[Message | NotificationError]:
    """Queue many messages with the rules of `queue`, in the caller's transaction; answers, in
    the order given, each message's row (the one already queued for a known idempotency key,
    also for a key given twice) or the NotificationError that refused it (the others are still
    queued). Per chunk of `CHUNK`: one look-up of the keys, one insert of the rows, one insert of
    their audit events; one hand-over to the worker after the commit. Give `area` (else it is
    read from the person, one query each)."""
    out: list[Message | NotificationError] = []
    with transaction.atomic():
        checks = _Checks()
        queued: list[int] = []
        for start in range(0, len(messages), CHUNK):
            out += _queue_chunk(actor, messages[start : start + CHUNK], checks, queued)
        if queued:
            transaction.on_commit(lambda: _hand_to_worker(queued))
    return out


def _build(spec: Outgoing, checks: _Checks) -> Message:
    """The unsaved row of one message, rendered and fitted (NotificationError if it cannot be)."""
    if spec.channel not in Channel.values:
        raise NotificationError(f"unknown channel {spec.channel!r}")
    phone, area = spec.phone, spec.area
    person = spec.beneficiary or spec.representative
    if not phone and person is not None:
        phone = person.phone
    if area is None and person is not None:
        area = getattr(person, "village", None) or person.commune
    if spec.channel == Channel.VILLAGE and area is None:
        raise NotificationError("a notice on the village head's list needs the person's village or commune")
    clean = _check_variables(spec.key, spec.variables, checks)
    text = _render(spec.key, clean, checks)
    people: dict[str, Any] = {
        "beneficiary": spec.beneficiary,
        "representative": spec.representative,
        "user": spec.user,
    }
    for name in ("beneficiary", "representative"):
        given_id = getattr(spec, f"{name}_id")
        if people[name] is None and given_id is not None:
            del people[name]
            people[f"{name}_id"] = given_id
    msg = Message(
        channel=spec.channel,
        phone=phone or "",
        **people,
        area=area,
        area_path=getattr(area, "path", "") or "",
        template_key=spec.key,
        variables=clean,
        idempotency_key=spec.idempotency_key,
    )
    if spec.channel == Channel.SMS:
        try:
            sms = prepare(branded(text), max_segments=settings.ANSINH_SMS_MAX_SEGMENTS)
        except ValueError as exc:
            raise NotificationError(str(exc)) from exc
        msg.text, msg.encoding, msg.segments = sms.text, sms.encoding, sms.segments
        if not can_receive_sms(msg.phone):
            msg.status = MessageStatus.FAILED
            msg.last_error = "no phone number" if not msg.phone else "not a mobile number (landline): no SMS"
    elif spec.channel == Channel.VILLAGE:
        # read out by the village head, in Vietnamese with its diacritics: queued on the list of
        # the area until they mark it delivered (`mark_village_delivered`); never sent
        msg.text, msg.encoding, msg.segments = text, "", 0
    else:
        msg.text, msg.encoding, msg.segments = text, "", 0
        msg.status = MessageStatus.DELIVERED  # shown in the application: nothing to send
        msg.delivered_at = timezone.now()
    return msg


def _queue_chunk(
    actor, chunk: Sequence[Outgoing], checks: _Checks, queued: list[int]
) -> list[Message | NotificationError]:
    keys = [spec.idempotency_key for spec in chunk]
    known = {m.idempotency_key: m for m in Message.objects.filter(idempotency_key__in=keys)}
    fresh: dict[str, Message] = {}
    answers: list[Message | NotificationError | str] = []  # a str: the key of a fresh row
    for spec in chunk:
        k = spec.idempotency_key
        if k in known:
            answers.append(known[k])
        elif k in fresh:
            answers.append(k)
        else:
            try:
                fresh[k] = _build(spec, checks)
            except NotificationError as exc:
                answers.append(exc)
            else:
                answers.append(k)
    if fresh:
        try:
            with transaction.atomic():  # a savepoint: a concurrent queue of the same keys wins
                insert_rows(Message, list(fresh.values()))
        except IntegrityError:
            for msg in fresh.values():  # ids may have been taken before the insert failed
                msg.pk, msg._state.adding = None, True
            winners = Message.objects.in_bulk(list(fresh), field_name="idempotency_key")
            for k in winners:
                fresh.pop(k)
            with transaction.atomic():
                insert_rows(Message, list(fresh.values()))
            fresh.update(winners)
            known.update(winners)
        written = [m for k, m in fresh.items() if k not in known]
        record_many(
            [
                build_event(
                    actor=actor,
                    action="notifications.queued",
                    obj=msg,
                    area=msg.area,
                    after={"template": msg.template_key, "channel": msg.channel, "status": msg.status},
                )
                for msg in written
            ]
        )
        queued += [msg.pk for msg in written if msg.status == MessageStatus.QUEUED and msg.channel == Channel.SMS]
    return [fresh[a] if isinstance(a, str) else a for a in answers]


def _hand_to_worker(message_ids: list[int]) -> None:
    from .tasks import send_notifications_task

    try:
        send_notifications_task.enqueue(message_ids=message_ids)
    except Exception:  # the command picks it up later; a queued row is never lost
        log.exception("could not enqueue the sending of %s notifications", len(message_ids))


# --- the sending window ----------------------------------------------------------------------


def _window() -> tuple[dt.time, dt.time]:
    start, end = settings.ANSINH_SMS_WINDOW
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def in_window(now: dt.datetime) -> bool:
    """Inside the daily window (local time). A window whose start equals its end is always open;
    one whose end is before its start runs over midnight."""
    start, end = _window()
    local = timezone.localtime(now).time()
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_window_start(now: dt.datetime) -> dt.datetime:
    """`now` when inside the window, else the next opening (today's or tomorrow's), local time."""
    if in_window(now):
        return now
    start, _end = _window()
    local = timezone.localtime(now)
    opening = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if opening <= local:
        opening += dt.timedelta(days=1)
    return opening


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: base × 2^(attempts-1), capped."""
    seconds = settings.ANSINH_SMS_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, settings.ANSINH_SMS_RETRY_MAX_SECONDS))


# --- sending ---------------------------------------------------------------------------------


@dataclass
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    outside_window: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "outside_window": self.outside_window,
        }


def _due(now: dt.datetime, message_ids: list[int] | None):
    qs = Message.objects.filter(status=MessageStatus.QUEUED, channel=Channel.SMS).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    if message_ids is not None:
        qs = qs.filter(pk__in=message_ids)
    return qs.order_by("created_at", "pk")


def send_due(*, now: dt.datetime | None = None, limit: int = 500, message_ids: list[int] | None = None) -> SendSummary:
    """Send the queued SMS that are due, one row at a time, each locked with SKIP LOCKED so that
    two workers never send the same row. Idempotent: a row sent is no longer queued. Outside the
    daily window nothing is sent (the rows wait for the next opening)."""
    now = now or timezone.now()
    summary = SendSummary()
    if not in_window(now):
        summary.outside_window = True
        return summary
    gateway = get_gateway()
    max_attempts = settings.ANSINH_SMS_MAX_ATTEMPTS
    for _ in range(limit):
        with transaction.atomic():
            msg = _due(now, message_ids).select_for_update(skip_locked=True).first()
            if msg is None:
                break
            msg.attempts += 1
            msg.gateway = gateway.name
            try:
                msg.provider_message_id = gateway.send(phone=msg.phone, text=msg.text, reference=str(msg.pk))
            except GatewayError as exc:
                msg.last_error = str(exc)[:500]
                if exc.retry and msg.attempts < max_attempts:
                    msg.next_attempt_at = next_window_start(now + backoff(msg.attempts))
                    summary.retrying += 1
                else:
                    msg.status = MessageStatus.FAILED
                    summary.failed += 1
            else:
                msg.status = MessageStatus.SENT
                msg.sent_at = now
                msg.last_error = ""
                msg.next_attempt_at = None
                summary.sent += 1
            msg.save(
                update_fields=[
                    "attempts",
                    "gateway",
                    "provider_message_id",
                    "status",
                    "sent_at",
                    "last_error",
                    "next_attempt_at",
                ]
            )
    return summary


def poll_delivery(*, now: dt.datetime | None = None, limit: int = 1000) -> dict:
    """Ask the gateway about the SMS sent and not yet delivered; record deliveries and failures."""
    now = now or timezone.now()
    gateway = get_gateway()
    counts = {"delivered": 0, "failed": 0, "pending": 0, "errors": 0}
    ids = list(
        Message.objects.filter(status=MessageStatus.SENT, gateway=gateway.name)
        .exclude(provider_message_id="")
        .order_by("sent_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            msg = Message.objects.select_for_update(skip_locked=True).filter(pk=pk, status=MessageStatus.SENT).first()
            if msg is None:
                continue
            try:
                delivery = gateway.status(msg.provider_message_id)
            except GatewayError as exc:
                counts["errors"] += 1
                msg.last_error = str(exc)[:500]
                msg.save(update_fields=["last_error"])
                continue
            if delivery.status == "delivered":
                msg.status, msg.delivered_at = MessageStatus.DELIVERED, now
                counts["delivered"] += 1
            elif delivery.status == "failed":
                msg.status, msg.last_error = MessageStatus.FAILED, delivery.error or "not delivered"
                counts["failed"] += 1
            else:
                counts["pending"] += 1
                continue
            msg.save(update_fields=["status", "delivered_at", "last_error"])
    return counts


# --- the village head's list -------------------------------------------------------------------


def village_notices(user, *, area=None):
    """The notices waiting on the village head's list in the user's areas (where they hold
    `notifications.village_list`: a village head their village, a commune officer the commune's
    villages), of `area` and below when given; the oldest first, village by village."""
    qs = access.scope(
        Message.objects.filter(channel=Channel.VILLAGE, status=MessageStatus.QUEUED),
        user,
        Cap.NOTIFICATIONS_VILLAGE,
        path_field="area_path",
    )
    if area is not None:
        qs = qs.filter(area_path__startswith=area.path)
    return qs.order_by("area_path", "created_at", "pk")


def mark_village_delivered(*, actor, message_ids: Sequence[int]) -> int:
    """The village head (or the commune officer) has told these people their notices: those of
    `message_ids` that are on the village head's list of the actor's areas and still waiting
    become delivered, each audited (`notifications.village.delivered`). Any other id (another
    village's notice, an SMS, one already delivered) is left as it is. Answers how many were
    marked. A few queries per chunk of `CHUNK` ids."""
    ids = sorted({int(i) for i in message_ids})
    marked = 0
    with transaction.atomic():
        now = timezone.now()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = list(village_notices(actor).filter(pk__in=chunk).select_for_update().order_by("pk"))
            if not rows:
                continue
            Message.objects.filter(pk__in=[m.pk for m in rows]).update(status=MessageStatus.DELIVERED, delivered_at=now)
            areas = Area.objects.in_bulk({m.area_id for m in rows if m.area_id})
            events = []
            for msg in rows:
                msg.status, msg.delivered_at = MessageStatus.DELIVERED, now
                events.append(
                    build_event(
                        actor=actor,
                        action="notifications.village.delivered",
                        obj=msg,
                        area=areas.get(msg.area_id),
                        before={"status": MessageStatus.QUEUED},
                        after={"template": msg.template_key, "channel": msg.channel, "status": msg.status},
                    )
                )
            record_many(events)
            marked += len(rows)
    return marked


def record_village_list_printed(*, actor, area, rows: int) -> None:
    """The village head's list taken away on paper (names and amounts): who, which area, how many
    notices (`notifications.village.printed`)."""
    with transaction.atomic():
        record(
            actor=actor,
            action="notifications.village.printed",
            area=area,
            after={"channel": Channel.VILLAGE, "rows": rows},
        )
