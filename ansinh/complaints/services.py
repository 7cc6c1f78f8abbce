"""Every write of complaints: lodging (online, anonymous and rate-limited; by staff on the phone or
at the counter), assigning and routing, identifying the beneficiary, linking payroll lines and
transfer exceptions, resolving, rejecting, withdrawing; and the public status check.

Each service takes keyword arguments, an `actor` (None for the public site), runs in one
transaction and writes its audit event there (`complaints.*`). Who may act is checked here too
(`ComplaintForbidden`, a 403 for the HTTP layers): complaints.handle in the complaint's commune,
for the provider's staff only on what is routed to the provider (`queries.may_handle`). The
lodger is told by SMS when the complaint is closed with an answer, if they gave a phone
(notifications outbox, sent after the commit)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.registry.validation import check_cccd, check_phone

from . import queries
from .deadlines import due_date
from .models import (
    NAME_MAX,
    PREFIX,
    RESOLUTION_MAX,
    ROUTE_BY_TOPIC,
    TEXT_MAX,
    TEXT_MIN,
    Channel,
    Complaint,
    Kind,
    RoutedTo,
    State,
    StatusCheck,
    Topic,
)


class ComplaintForbidden(DomainError):
    """The actor's roles do not allow this on this complaint (a 403)."""


class RateLimited(DomainError):
    """Too many requests from one client (or on one reference) in the window."""


# online lodging: at most this many complaints per client per hour and per day
ONLINE_PER_HOUR = 3
ONLINE_PER_DAY = 10
# status checks that found nothing: at most this many per client per hour, per reference per day
FAILED_CHECKS_PER_CLIENT_HOUR = 10
FAILED_CHECKS_PER_REFERENCE_DAY = 5

_LINK = re.compile(r"(https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|xyz|top|info|vn)/)", re.IGNORECASE)
_REPEATED = re.compile(r"(.)\1{14,}")


def client_key(address: str) -> str:
    """A keyed hash of the client's address: enough to count its requests, not to find it."""
    return hmac.new(settings.SECRET_KEY.encode(), f"complaints:{address}".encode(), hashlib.sha256).hexdigest()


# --- checks ------------------------------------------------------------------------------------


def _clean_text(value: str, *, field: str, errors: dict, min_length: int, max_length: int) -> str:
    value = (value or "").replace("\x00", "").strip()
    if len(value) < min_length:
        errors[field] = (
            _("Write what happened (at least %(n)d characters).") % {"n": min_length}
            if min_length > 1
            else _("This field is required.")
        )
    elif len(value) > max_length:
        errors[field] = _("At most %(n)d characters (you wrote %(m)d).") % {"n": max_length, "m": len(value)}
    elif _LINK.search(value):
        errors[field] = _("Web links are not accepted: describe the problem in words.")
    elif _REPEATED.search(value):
        errors[field] = _("The text repeats the same character many times: describe the problem in words.")
    return value


def _choice(value: str, choices, *, field: str, errors: dict) -> str:
    if value not in choices.values:
        errors[field] = _("Choose one of the options.")
    return value


def _person(*, name: str, phone: str, cccd: str, phone_required: bool, errors: dict) -> tuple[str, str, str]:
    name = _clean_text(name, field="name", errors=errors, min_length=1, max_length=NAME_MAX)
    e164 = ""
    if phone.strip():
        e164, found = check_phone(phone)
        if found.errors:
            errors["phone"] = " ".join(found.errors["phone"])
    elif phone_required:
        errors["phone"] = _("Enter your phone number: you need its last four digits to follow your request.")
    clean_cccd = ""
    if cccd.strip():
        clean_cccd, found = check_cccd(cccd, birth_date=None, gender=None)
        if found.errors:
            errors["cccd"] = " ".join(found.errors["cccd"])
    return name, e164, clean_cccd


def _snapshot(c: Complaint) -> dict:
    return {
        "reference": c.reference,
        "channel": c.channel,
        "kind": c.kind,
        "topic": c.topic,
        "routed_to": c.routed_to,
        "state": c.state,
        "due_on": c.due_on,
        "name": c.name,
        "assignee": c.assignee.get_full_name() if c.assignee is not None else "",
    }


def _create(
    *,
    actor,
    channel: str,
    kind: str,
    topic: str,
    commune: Area,
    name: str,
    phone: str,
    cccd: str,
    text: str,
    routed_to: str | None,
    beneficiary=None,
    key: str = "",
) -> Complaint:
    today = timezone.localdate()
    complaint = Complaint.objects.create(
        reference=f"tmp-{uuid.uuid4().hex[:16]}",  # the row's number is known once it is written
        channel=channel,
        kind=kind,
        topic=topic,
        text=text,
        name=name,
        phone=phone,
        cccd=cccd,
        beneficiary=beneficiary,
        commune=commune,
        area_path=commune.path,
        routed_to=routed_to or ROUTE_BY_TOPIC[topic],
        received_on=today,
        due_on=due_date(today, kind),
        lodged_by=actor if getattr(actor, "pk", None) else None,
        client_key=key,
    )
    complaint.reference = f"{PREFIX[kind]}-{today.year}-{complaint.pk:06d}"
    Complaint.objects.filter(pk=complaint.pk).update(reference=complaint.reference)
    record(actor=actor, action="complaints.complaint.lodged", obj=complaint, after=_snapshot(complaint))
    return complaint


# --- lodging -----------------------------------------------------------------------------------


@transaction.atomic
def lodge_online(
    *,
    client: str,
    kind: str,
    topic: str,
    commune_id: int | None,
    name: str,
    phone: str,
    text: str,
    cccd: str = "",
    website: str = "",
) -> Complaint:
    """A complaint from the public site (no sign-in). `client`: the sender's address (hashed).
    `website` is a field people never see (a robot fills it): refused. Refused with the reasons
    (ValidationError by field): a missing or too long text, a link, a phone that is not one, a
    commune not in today's tree. RateLimited past ONLINE_PER_HOUR / ONLINE_PER_DAY a client."""
    key = client_key(client)
    now = timezone.now()
    recent = Complaint.objects.filter(client_key=key, created_at__gte=now - timedelta(days=1)).values_list(
        "created_at", flat=True
    )
    times = list(recent)
    if len(times) >= ONLINE_PER_DAY or sum(t >= now - timedelta(hours=1) for t in times) >= ONLINE_PER_HOUR:
        raise RateLimited(
            _("Too many requests were sent from this device. Please try again later or call the commune.")
        )
    errors: dict[str, str] = {}
    if website:
        errors["text"] = _("The request could not be accepted.")
    _choice(kind, Kind, field="kind", errors=errors)
    _choice(topic, Topic, field="topic", errors=errors)
    commune = queries.current_communes().filter(pk=commune_id or 0).first()
    if commune is None:
        errors["commune"] = _("Choose your commune or ward from the list.")
    name, e164, clean_cccd = _person(name=name, phone=phone, cccd=cccd, phone_required=True, errors=errors)
    text = _clean_text(text, field="text", errors=errors, min_length=TEXT_MIN, max_length=TEXT_MAX)
    if errors or commune is None:
        raise ValidationError(errors)
    return _create(
        actor=None,
        channel=Channel.ONLINE,
        kind=kind,
        topic=topic,
        commune=commune,
        name=name,
        phone=e164,
        cccd=clean_cccd,
        text=text,
        routed_to=None,
        key=key,
    )


@transaction.atomic
def lodge_by_staff(
    *,
    actor,
    channel: str,
    kind: str,
    topic: str,
    commune: Area,
    name: str,
    text: str,
    phone: str = "",
    cccd: str = "",
    routed_to: str | None = None,
) -> Complaint:
    """A complaint taken on the phone or at the counter by a user with complaints.handle on the
    commune. With a CCCD that belongs to a beneficiary of the commune, the complaint is linked to
    them. `routed_to` empty: by topic (ROUTE_BY_TOPIC)."""
    if (
        commune is None
        or commune.level != Level.COMMUNE
        or not access.can_in_area(actor, Cap.COMPLAINTS_HANDLE, commune)
    ):
        raise ComplaintForbidden(_("Your role does not allow taking complaints in this commune."))
    errors: dict[str, str] = {}
    if channel not in (Channel.PHONE, Channel.COUNTER):
        errors["channel"] = _("Choose one of the options.")
    _choice(kind, Kind, field="kind", errors=errors)
    _choice(topic, Topic, field="topic", errors=errors)
    if routed_to:
        _choice(routed_to, RoutedTo, field="routed_to", errors=errors)
    name, e164, clean_cccd = _person(name=name, phone=phone, cccd=cccd, phone_required=False, errors=errors)
    text = _clean_text(text, field="text", errors=errors, min_length=TEXT_MIN, max_length=TEXT_MAX)
    if errors:
        raise ValidationError(errors)
    beneficiary = None
    if clean_cccd:
        from ansinh.registry.models import Beneficiary

        beneficiary = Beneficiary.objects.filter(cccd=clean_cccd, commune=commune).first()
    return _create(
        actor=actor,
        channel=channel,
        kind=kind,
        topic=topic,
        commune=commune,
        name=name,
        phone=e164,
        cccd=clean_cccd,
        text=text,
        routed_to=routed_to or None,
        beneficiary=beneficiary,
    )


# --- handling ----------------------------------------------------------------------------------


def _handled(actor, complaint: Complaint) -> Complaint:
    """The complaint locked for the change, after checking the actor may act on it."""
    if not queries.may_handle(actor, complaint):
        raise ComplaintForbidden(_("Your role does not allow handling this complaint."))
    return Complaint.objects.select_for_update(of=("self",)).select_related("commune", "assignee").get(pk=complaint.pk)


def _must_be_open(c: Complaint) -> None:
    if not c.is_open:
        raise DomainError(
            _("The complaint is closed (%(state)s): nothing can change on it.") % {"state": c.get_state_display()}
        )


@transaction.atomic
def assign(*, actor, complaint: Complaint, assignee=None, routed_to: str = "", note: str = "") -> Complaint:
    """Give the complaint to a handler (it is then in progress) and/or route it to the commune or
    the provider. The handler must be one who may handle it (`queries.assignees_for`)."""
    c = _handled(actor, complaint)
    _must_be_open(c)
    before = _snapshot(c)
    if routed_to:
        if routed_to not in RoutedTo.values:
            raise ValidationError({"routed_to": _("Choose one of the options.")})
        c.routed_to = routed_to
    if assignee is not None:
        if not queries.assignees_for(c).filter(pk=assignee.pk).exists():
            raise ValidationError({"assignee": _("This person cannot handle complaints of this commune.")})
        c.assignee = assignee
        if c.state == State.LODGED:
            c.set_state(State.IN_PROGRESS)
    after = _snapshot(c)
    if after == before:
        return c
    c.save(update_fields=["routed_to", "assignee", "state"])
    record(
        actor=actor,
        action="complaints.complaint.assigned",
        obj=c,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v} | {"reference": c.reference},
        note=(note or "")[:500],
    )
    return c


@transaction.atomic
def identify(*, actor, complaint: Complaint, beneficiary) -> Complaint:
    """Link the complaint to the beneficiary it is about (a person of its commune)."""
    c = _handled(actor, complaint)
    _must_be_open(c)
    if beneficiary.commune_id != c.commune_id:
        raise ValidationError({"beneficiary": _("This person is not registered in the complaint's commune.")})
    before = c.beneficiary_id
    c.beneficiary = beneficiary
    c.save(update_fields=["beneficiary"])
    record(
        actor=actor,
        action="complaints.complaint.identified",
        obj=c,
        before={"beneficiary": before},
        after={"beneficiary": beneficiary.pk, "reference": c.reference, "name": beneficiary.full_name},
    )
    return c


@transaction.atomic
def link_records(*, actor, complaint: Complaint, lines: Iterable = (), exceptions: Iterable = ()) -> Complaint:
    """Set the payroll lines and transfer exceptions the complaint is about (replacing those
    linked before). Only records of the complaint's commune: another commune's is refused."""
    c = _handled(actor, complaint)
    _must_be_open(c)
    lines, exceptions = list(lines), list(exceptions)
    if any(line.commune_id != c.commune_id for line in lines):
        raise ValidationError({"lines": _("Only payroll lines of the complaint's commune can be linked.")})
    if any(exc.commune_id != c.commune_id for exc in exceptions):
        raise ValidationError({"exceptions": _("Only transfer exceptions of the complaint's commune can be linked.")})
    before = {
        "lines": sorted(c.lines.values_list("pk", flat=True)),
        "exceptions": sorted(c.exceptions.values_list("pk", flat=True)),
    }
    c.lines.set(lines)
    c.exceptions.set(exceptions)
    after = {"lines": sorted(x.pk for x in lines), "exceptions": sorted(x.pk for x in exceptions)}
    if after != before:
        record(
            actor=actor,
            action="complaints.complaint.linked",
            obj=c,
            before=before,
            after=after | {"reference": c.reference},
        )
    return c


def _close(*, actor, complaint: Complaint, state: str, text: str, action: str) -> Complaint:
    c = _handled(actor, complaint)
    errors: dict[str, str] = {}
    text = (text or "").replace("\x00", "").strip()
    if state in (State.RESOLVED, State.REJECTED) and not text:
        errors["resolution"] = _("Write the answer given to the person.")
    elif len(text) > RESOLUTION_MAX:
        errors["resolution"] = _("At most %(n)d characters (you wrote %(m)d).") % {"n": RESOLUTION_MAX, "m": len(text)}
    if errors:
        raise ValidationError(errors)
    before = c.state
    c.set_state(state)
    c.resolution = text
    c.closed_at = timezone.now()
    c.closed_by = actor if getattr(actor, "pk", None) else None
    c.save(update_fields=["state", "resolution", "closed_at", "closed_by"])
    record(
        actor=actor,
        action=action,
        obj=c,
        before={"state": before},
        after={"state": c.state, "reference": c.reference, "resolution": text[:500]},
    )
    if state in (State.RESOLVED, State.REJECTED) and c.phone:
        _notify_closed(actor, c)
    return c


@transaction.atomic
def resolve(*, actor, complaint: Complaint, resolution: str) -> Complaint:
    """Settled, with the answer given to the person (required)."""
    return _close(
        actor=actor, complaint=complaint, state=State.RESOLVED, text=resolution, action="complaints.complaint.resolved"
    )


@transaction.atomic
def reject(*, actor, complaint: Complaint, resolution: str) -> Complaint:
    """Not accepted (not founded, not ours to decide, a duplicate), with the reason (required)."""
    return _close(
        actor=actor, complaint=complaint, state=State.REJECTED, text=resolution, action="complaints.complaint.rejected"
    )


@transaction.atomic
def withdraw(*, actor, complaint: Complaint, note: str = "") -> Complaint:
    """The person withdrew it (told to the staff, who records it)."""
    return _close(
        actor=actor, complaint=complaint, state=State.WITHDRAWN, text=note, action="complaints.complaint.withdrawn"
    )


def _notify_closed(actor, c: Complaint) -> None:
    from ansinh.notifications.services import NotificationError, queue
    from ansinh.payments.approvals import commune_hotline

    outcome = _("resolved") if c.state == State.RESOLVED else _("not accepted")
    # never blocks the answer; the status page and the counter still tell it
    with contextlib.suppress(NotificationError):
        queue(
            actor=actor,
            key="complaint.closed",
            variables={"reference": c.reference, "outcome": outcome, "hotline": commune_hotline(c.commune)},
            idempotency_key=f"complaint-{c.pk}-closed",
            area=c.commune,
            phone=c.phone,
        )


# --- the public status check -------------------------------------------------------------------


@transaction.atomic
def check_status(*, client: str, reference: str, phone_last4: str) -> Complaint | None:
    """The complaint with this reference whose phone ends with these four digits, or None (the
    same answer for an unknown reference and wrong digits). A miss is counted: past
    FAILED_CHECKS_PER_CLIENT_HOUR misses from a client in an hour, or
    FAILED_CHECKS_PER_REFERENCE_DAY on one reference in a day, RateLimited (before looking)."""
    key = client_key(client)
    reference = (reference or "").strip().upper()[:20]
    digits = "".join(ch for ch in (phone_last4 or "") if ch.isdigit())
    now = timezone.now()
    misses = StatusCheck.objects.filter(client_key=key, at__gte=now - timedelta(hours=1)).count()
    on_reference = StatusCheck.objects.filter(reference=reference, at__gte=now - timedelta(days=1)).count()
    if misses >= FAILED_CHECKS_PER_CLIENT_HOUR or on_reference >= FAILED_CHECKS_PER_REFERENCE_DAY:
        raise RateLimited(_("Too many attempts. Please try again later or call the commune."))
    found = None
    if len(digits) == 4 and reference:
        found = Complaint.objects.filter(reference=reference).first()
        if found is not None and not (found.phone and found.phone.endswith(digits)):
            found = None
    if found is None:
        StatusCheck.objects.create(client_key=key, reference=reference)
    return found
