"""Complaints over HTTP (issue 12, point 6): the register (filtered, 100 a page), one complaint,
a complaint taken on the phone or at the counter, resolving or rejecting one, the counts per
commune.

Who: complaints.view reads (the provider's staff only what is routed to the provider), and
complaints.handle in the complaint's commune acts. Another area's complaint is a 404; a reader's
write is a 403; a refusal of the rules a 422 with the reason. The public site's lodging is not
here (it is the public page, anonymous and rate-limited). Choice values are codes, each with a
Vietnamese `*_label` next to it; CCCDs are masked, the phone in full only to those who handle
the complaint or see contact data."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.complaints import queries, services
from ansinh.complaints.models import NAME_MAX, RESOLUTION_MAX, TEXT_MAX, Complaint
from ansinh.core.masking import mask_number
from ansinh.core.text import phone_display
from ansinh.registry.privacy import contact_visible, mask_phone

from .common import Id, responses, text

router = Router(tags=["complaints"])

PAGE_SIZE = 100

StateValue = Literal["lodged", "in_progress", "resolved", "rejected", "withdrawn"]
StateFilter = Literal["lodged", "in_progress", "resolved", "rejected", "withdrawn", "open", ""]
KindValue = Literal["complaint", "feedback"]
TopicValue = Literal[
    "not_paid", "wrong_amount", "cannot_withdraw", "pay_point", "staff_conduct", "registry_data", "other"
]
RoutedValue = Literal["commune", "provider"]


class ComplaintOut(Schema):
    id: int
    reference: str
    channel: str
    channel_label: str
    kind: str
    kind_label: str
    topic: str
    topic_label: str
    text: str
    name: str
    phone: str = Field(..., description="In full to those who handle the complaint, else masked.")
    cccd: str = Field(..., description="Masked.")
    beneficiary_id: int | None
    commune_id: int
    commune: str
    routed_to: str
    routed_to_label: str
    received_on: date
    due_on: date
    overdue: bool
    state: str
    state_label: str
    assignee: str
    resolution: str
    closed_at: datetime | None
    line_ids: list[int]
    exception_ids: list[int]


class ComplaintPage(Schema):
    items: list[ComplaintOut]
    count: int
    page: int
    pages: int


class ComplaintFilters(Schema):
    state: StateFilter = ""
    commune_id: int | None = Field(None, ge=1, le=2**63 - 1)
    routed_to: RoutedValue | None = None
    kind: KindValue | None = None
    overdue: bool = False
    page: int = Field(1, ge=1, le=10**6)


class ComplaintIn(Schema):
    channel: Literal["phone", "counter"]
    kind: KindValue
    topic: TopicValue
    commune_id: Id
    name: str = text(max_length=NAME_MAX, min_length=1)
    phone: str = text("", max_length=20)
    cccd: str = text("", max_length=12)
    text: str = text(max_length=TEXT_MAX, min_length=1)
    routed_to: RoutedValue | None = None


class ComplaintResolveIn(Schema):
    outcome: Literal["resolved", "rejected"] = "resolved"
    resolution: str = text(max_length=RESOLUTION_MAX, min_length=1)


class ComplaintCommuneCountOut(Schema):
    commune_id: int
    commune: str
    total: int
    open: int
    overdue: int
    states: dict[str, int]


class ComplaintCountsOut(Schema):
    total: int
    open: int
    overdue: int
    states: dict[str, int]
    communes: list[ComplaintCommuneCountOut]


def _out(c: Complaint, user, today: date) -> dict:
    full_phone = queries.may_handle(user, c) or contact_visible(user)(c.area_path)
    return {
        "id": c.pk,
        "reference": c.reference,
        "channel": c.channel,
        "channel_label": str(c.get_channel_display()),
        "kind": c.kind,
        "kind_label": str(c.get_kind_display()),
        "topic": c.topic,
        "topic_label": str(c.get_topic_display()),
        "text": c.text,
        "name": c.name,
        "phone": phone_display(c.phone) if full_phone else mask_phone(c.phone),
        "cccd": mask_number(c.cccd),
        "beneficiary_id": c.beneficiary_id,
        "commune_id": c.commune_id,
        "commune": c.commune.name,
        "routed_to": c.routed_to,
        "routed_to_label": str(c.get_routed_to_display()),
        "received_on": c.received_on,
        "due_on": c.due_on,
        "overdue": c.is_overdue(today),
        "state": c.state,
        "state_label": str(c.get_state_display()),
        "assignee": c.assignee.get_full_name() if c.assignee is not None else "",
        "resolution": c.resolution,
        "closed_at": c.closed_at,
        "line_ids": sorted(c.lines.values_list("pk", flat=True)),
        "exception_ids": sorted(c.exceptions.values_list("pk", flat=True)),
    }


def _complaint(request, complaint_id: int) -> Complaint:
    return get_object_or_404(queries.complaints_for(request.auth), pk=complaint_id)


def _forbidden() -> HttpError:
    return HttpError(403, _("Your role does not allow handling this complaint."))


def _filtered(request, filters: ComplaintFilters):
    return queries.filter_complaints(
        queries.complaints_for(request.auth),
        state=filters.state,
        commune_id=filters.commune_id,
        routed_to=filters.routed_to or "",
        kind=filters.kind or "",
        overdue=filters.overdue,
    )


@router.get("/complaints", response=responses({200: ComplaintPage}))
def list_complaints(request, filters: Query[ComplaintFilters]):
    """The complaints of the user's areas, newest first, 100 a page."""
    qs = _filtered(request, filters).order_by("-received_on", "-id")
    count = qs.count()
    start = (filters.page - 1) * PAGE_SIZE
    today = timezone.localdate()
    items = [_out(c, request.auth, today) for c in qs[start : start + PAGE_SIZE]]
    return {"items": items, "count": count, "page": filters.page, "pages": max(1, math.ceil(count / PAGE_SIZE))}


@router.get("/complaints/counts", response=responses({200: ComplaintCountsOut}))
def complaint_counts(request, filters: Query[ComplaintFilters]):
    """The register's counts: per commune (total, open, overdue, per state) and per state."""
    summary = queries.counts(_filtered(request, filters))
    return {
        "total": summary["total"],
        "open": summary["open"],
        "overdue": summary["overdue"],
        "states": summary["states"],
        "communes": summary["communes"],
    }


@router.get("/complaints/{complaint_id}", response=responses({200: ComplaintOut}, not_found=True))
def get_complaint(request, complaint_id: Id):
    return _out(_complaint(request, complaint_id), request.auth, timezone.localdate())


@router.post("/complaints", response=responses({201: ComplaintOut}, body=True, forbidden=True, not_found=True))
def post_complaint(request, payload: ComplaintIn):
    """A complaint taken on the phone or at the counter in a commune where the user handles
    complaints (403 elsewhere; 404 for a commune that does not exist)."""
    commune = Area.objects.filter(pk=payload.commune_id, level=Level.COMMUNE).first()
    if commune is None or not access.can_in_area(request.auth, Cap.COMPLAINTS_VIEW, commune):
        raise Http404
    try:
        c = services.lodge_by_staff(
            actor=request.auth,
            channel=payload.channel,
            kind=payload.kind,
            topic=payload.topic,
            commune=commune,
            name=payload.name,
            text=payload.text,
            phone=payload.phone,
            cccd=payload.cccd,
            routed_to=payload.routed_to,
        )
    except services.ComplaintForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return Status(201, _out(c, request.auth, timezone.localdate()))


@router.post(
    "/complaints/{complaint_id}/resolve",
    response=responses({200: ComplaintOut}, body=True, forbidden=True, not_found=True),
)
def post_resolve(request, complaint_id: Id, payload: ComplaintResolveIn):
    """Close the complaint with the answer given to the person: resolved or not accepted."""
    c = _complaint(request, complaint_id)
    if not queries.may_handle(request.auth, c):
        raise _forbidden()
    service = services.resolve if payload.outcome == "resolved" else services.reject
    try:
        service(actor=request.auth, complaint=c, resolution=payload.resolution)
    except services.ComplaintForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    return _out(_complaint(request, complaint_id), request.auth, timezone.localdate())
