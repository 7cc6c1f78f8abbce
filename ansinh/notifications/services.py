"""The notification service: queue a message (rendered now, sent after the commit), send what
is due through the gateway within the daily sending window, retry with backoff, follow
deliveries.

Any service of the system notifies a person with `queue(...)` inside its own transaction: when
that transaction rolls back, the row disappears and nothing was sent; when it commits, the
message is handed to the background task (`tasks.send_notifications_task`). The command
`send_notifications` (run by cron or the worker) sends whatever is still due, so nothing is lost
if the task did not run."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from ansinh.audit.services import record
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


def _check_variables(key: str, variables: dict) -> dict[str, str]:
    expected = template(key).variables
    given = set(variables)
    if given != expected:
        missing, extra = sorted(expected - given), sorted(given - expected)
        raise NotificationError(f"template {key!r}: missing {missing}, not taken {extra}")
    from ansinh.policy.models import Category

    categories = {
        search_key(v)
        for code, vi, en in Category.objects.values_list("code", "name_vi", "name_en")
        for v in (code, vi, en)
        if v
    }
    clean: dict[str, str] = {}
    for name, value in variables.items():
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise NotificationError(f"variable {name!r} must be a text or a number")
        text = str(value)
        if len(text) > 160:
            raise NotificationError(f"variable {name!r} is too long")
        key_text = search_key(text)
        if any(word in f" {key_text} " for word in (f" {w} " for w in FORBIDDEN_WORDS)) or key_text in categories:
            raise NotificationError(f"variable {name!r} looks like a category: notifications never name one")
        clean[name] = text
    return clean


def render(key: str, variables: dict) -> str:
    """The template in Vietnamese with its variables, as queued."""
    return _render(key, _check_variables(key, variables))


def _render(key: str, clean: dict[str, str]) -> str:
    with translation.override("vi"):
        return str(template(key).text) % clean


@dataclass
class Recipient:
    phone: str = ""
    beneficiary: object | None = None
    representative: object | None = None
    user: object | None = None


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
    stored as failed with the reason, never sent. Sent after the caller's transaction commits."""
    with transaction.atomic():
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        person = beneficiary or representative
        if not phone and person is not None:
            phone = person.phone
        if area is None and person is not None:
            area = getattr(person, "village", None) or person.commune
        clean = _check_variables(key, variables)
        text = _render(key, clean)
        msg = Message(
            channel=channel,
            phone=phone or "",
            beneficiary=beneficiary,
            representative=representative,
            user=user,
            area=area,
            area_path=area.path if area is not None else "",
            template_key=key,
            variables=clean,
            idempotency_key=idempotency_key,
        )
        if channel == Channel.SMS:
            try:
                sms = prepare(text, max_segments=settings.ANSINH_SMS_MAX_SEGMENTS)
            except ValueError as exc:
                raise NotificationError(str(exc)) from exc
            msg.text, msg.encoding, msg.segments = sms.text, sms.encoding, sms.segments
            if not can_receive_sms(msg.phone):
                msg.status = MessageStatus.FAILED
                msg.last_error = "no phone number" if not msg.phone else "not a mobile number (landline): no SMS"
        else:
            msg.text, msg.encoding, msg.segments = text, "", 0
            msg.status = MessageStatus.DELIVERED  # shown in the application: nothing to send
            msg.delivered_at = timezone.now()
        try:
            with transaction.atomic():  # a savepoint: a concurrent queue of the same key wins
                msg.save()
        except IntegrityError:
            return Message.objects.get(idempotency_key=idempotency_key)
        record(
            actor=actor,
            action="notifications.queued",
            obj=msg,
            area=area,
            after={"template": key, "channel": channel, "status": msg.status},
        )
        if msg.status == MessageStatus.QUEUED:
            transaction.on_commit(lambda: _hand_to_worker(msg.pk))
        return msg


def _hand_to_worker(message_id: int) -> None:
    from .tasks import send_notifications_task

    try:
        send_notifications_task.enqueue(message_ids=[message_id])
    except Exception:  # the command picks it up later; a queued row is never lost
        log.exception("could not enqueue the sending of notification %s", message_id)


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
