"""Applications for the monthly allowance over HTTP (issue 12, point 7): the list (filtered, 100 a
page), one application, an application received at the counter, the commune's review, the
public posting and the chairperson's decision.

Who: those who review applications (applications.review) or decide them (registry.decide) read
them in their areas; the review, the posting and receiving need applications.review in the
application's commune, the decision registry.decide. Another area's application is a 404; a
write without the capability a 403 (nothing written); a refusal of the rules a 422 with the
reason. The public site's submission is not here (it is the public page, anonymous and
rate-limited). Choice values are codes, each with a Vietnamese `*_label`; CCCDs masked unless the
user holds registry.view_cccd, phones unless registry.view_contact; an HIV-related category
claimed is shown only with registry.view_sensitive."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.applications import queries, services
from ansinh.applications.models import Application
from ansinh.areas.models import Area, Level
from ansinh.core.masking import mask_number
from ansinh.core.text import phone_display
from ansinh.registry.privacy import contact_visible, mask_phone
from ansinh.registry.queries import cccd_visible, sensitive_visible

from .common import Id, responses, text

router = Router(tags=["applications"])

PAGE_SIZE = 100

StateValue = Literal[
    "submitted", "under_review", "returned_for_more", "posted", "decided_approved", "decided_rejected", "withdrawn"
]
ChannelValue = Literal["online", "counter"]


class ApplicationAttachmentOut(Schema):
    id: int
    kind: str
    kind_label: str
    content_type: str
    size: int
    uploaded_at: datetime


class ApplicationOut(Schema):
    id: int
    reference: str
    channel: str
    channel_label: str
    state: str
    state_label: str
    full_name: str
    birth_date: date
    gender: str
    cccd: str = Field(..., description="In full with registry.view_cccd, else masked.")
    phone: str = Field(..., description="In full with registry.view_contact, else masked.")
    commune_id: int
    commune_name: str
    village_id: int | None
    village_name: str
    address: str
    representative_name: str
    representative_relationship: str
    category_code: str | None = Field(
        ..., description="Empty for an HIV-related category unless the user holds registry.view_sensitive."
    )
    category_label: str
    submitted_at: datetime
    review_comment: str
    posting_starts: date | None
    posting_ends: date | None
    decidable_from: date | None
    decision_number: str
    decision_date: date | None
    start_month: date | None
    rejection_reason: str
    beneficiary_id: int | None
    attachments: list[ApplicationAttachmentOut]


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    count: int
    page: int
    pages: int


class ApplicationFilters(Schema):
    state: StateValue | None = None
    channel: ChannelValue | None = None
    commune_id: Id | None = None
    q: str = text("", max_length=100, description="A reference, part of a name or a CCCD")
    page: int = Field(1, ge=1, le=100_000)


class ApplicationIn(Schema):
    full_name: str = text(max_length=150)
    birth_date: date
    gender: Literal["male", "female"]
    cccd: str = text(max_length=20)
    phone: str = text("", max_length=20)
    commune_id: Id
    village_id: Id | None = None
    address: str = text("", max_length=255)
    category_code: str = text(max_length=60)
    condition: str = text("", max_length=60)
    fixed_key: str = text("", max_length=60)
    representative_name: str = text("", max_length=150)
    representative_cccd: str = text("", max_length=20)
    representative_phone: str = text("", max_length=20)
    representative_relationship: str = text("", max_length=60)
    note: str = text("", max_length=2000)


class ApplicationReviewIn(Schema):
    outcome: Literal["accept", "return", "reject"]
    comment: str = text("", max_length=2000, description="Required to return (what is missing) or refuse (why).")


class ApplicationPostIn(Schema):
    starts: date | None = Field(None, description="First day of the posting; today when empty.")


class ApplicationDecideIn(Schema):
    approve: bool
    number: str = text("", max_length=60)
    signed_on: date
    signer: str = text("", max_length=150)
    start_month: date | None = Field(None, description="Default: the month the decision is signed.")
    backdating_reason: str = text("", max_length=255)
    reason: str = text("", max_length=2000, description="Required to refuse.")
    accept_duplicate: bool = False


def _out(app: Application, user, *, cccd, contact, sensitive) -> dict:
    hidden = app.category.sensitive and not sensitive(app.area_path)
    return {
        "id": app.pk,
        "reference": app.reference,
        "channel": app.channel,
        "channel_label": app.get_channel_display(),
        "state": app.state,
        "state_label": app.get_state_display(),
        "full_name": app.full_name,
        "birth_date": app.birth_date,
        "gender": app.gender,
        "cccd": app.cccd if cccd(app.area_path) else mask_number(app.cccd),
        "phone": phone_display(app.phone) if contact(app.area_path) else mask_phone(app.phone),
        "commune_id": app.commune_id,
        "commune_name": app.commune.full_name,
        "village_id": app.village_id,
        "village_name": app.village.name if app.village else "",
        "address": app.address,
        "representative_name": app.rep_name,
        "representative_relationship": app.rep_relationship,
        "category_code": None if hidden else app.category.code,
        "category_label": queries.neutral_category() if hidden else queries.entitlement_label(app),
        "submitted_at": app.submitted_at,
        "review_comment": app.review_comment,
        "posting_starts": app.posting_starts,
        "posting_ends": app.posting_ends,
        "decidable_from": services.decidable_from(app),
        "decision_number": app.decision_number,
        "decision_date": app.decision_date,
        "start_month": app.start_month,
        "rejection_reason": app.rejection_reason,
        "beneficiary_id": app.beneficiary_id,
        "attachments": [
            {
                "id": a.pk,
                "kind": a.kind,
                "kind_label": a.get_kind_display(),
                "content_type": a.content_type,
                "size": a.size,
                "uploaded_at": a.uploaded_at,
            }
            for a in app.attachments.all()
        ],
    }


def _one(request, app: Application) -> dict:
    user = request.auth
    return _out(app, user, cccd=cccd_visible(user), contact=contact_visible(user), sensitive=sensitive_visible(user))


def _scoped(request):
    return queries.applications_for(request.auth).prefetch_related("attachments")


def _get(request, application_id: int) -> Application:
    return get_object_or_404(_scoped(request), pk=application_id)


def _may(request, app: Application, cap: str) -> None:
    if not access.can_in_area(request.auth, cap, app.commune):
        raise HttpError(403, _("You may not do this for this commune."))


@router.get("/applications", response=responses({200: ApplicationPage}))
def list_applications(request, filters: Query[ApplicationFilters]):
    """The applications of the user's areas, newest first, 100 a page."""
    qs = _scoped(request)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.commune_id:
        qs = qs.filter(commune_id=filters.commune_id)
    qs = queries.applications_with_query(qs, filters.q)
    count = qs.count()
    start = (filters.page - 1) * PAGE_SIZE
    user = request.auth
    cccd, contact, sensitive = cccd_visible(user), contact_visible(user), sensitive_visible(user)
    items = [_out(a, user, cccd=cccd, contact=contact, sensitive=sensitive) for a in qs[start : start + PAGE_SIZE]]
    return {"items": items, "count": count, "page": filters.page, "pages": max(1, math.ceil(count / PAGE_SIZE))}


@router.get("/applications/{application_id}", response=responses({200: ApplicationOut}, not_found=True))
def get_application(request, application_id: Id):
    return _one(request, _get(request, application_id))


@router.post("/applications", response=responses({201: ApplicationOut}, body=True, forbidden=True, not_found=True))
def create_application(request, body: ApplicationIn):
    """An application received at the commune counter (no documents: add them on the page)."""
    if not access.has_cap(request.auth, Cap.APPLICATIONS_REVIEW):
        raise HttpError(403, _("You may not do this for this commune."))
    # a commune (or village) outside the user's areas is not found, as everywhere in the API
    areas = access.scope(Area.objects.all(), request.auth, Cap.APPLICATIONS_REVIEW, "path")
    get_object_or_404(areas.filter(level=Level.COMMUNE), pk=body.commune_id)
    if body.village_id:
        get_object_or_404(areas.filter(level=Level.VILLAGE), pk=body.village_id)
    data = services.ApplicantInput(
        full_name=body.full_name,
        birth_date=body.birth_date,
        gender=body.gender,
        cccd=body.cccd,
        phone=body.phone,
        commune_id=body.commune_id,
        village_id=body.village_id,
        address=body.address,
        entitlement=f"{body.category_code}|{body.condition}|{body.fixed_key}",
        rep_name=body.representative_name,
        rep_cccd=body.representative_cccd,
        rep_phone=body.representative_phone,
        rep_relationship=body.representative_relationship,
        note=body.note,
    )
    try:
        app = services.submit_at_counter(actor=request.auth, data=data, uploads=[])
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    return Status(201, _one(request, _get(request, app.pk)))


@router.post(
    "/applications/{application_id}/review",
    response=responses({200: ApplicationOut}, body=True, forbidden=True, not_found=True),
)
def review_application(request, application_id: Id, body: ApplicationReviewIn):
    """Accept (to be posted), return for more documents, or refuse."""
    app = _get(request, application_id)
    _may(request, app, Cap.APPLICATIONS_REVIEW)
    services.review(actor=request.auth, application=app, outcome=body.outcome, comment=body.comment)
    return _one(request, _get(request, application_id))


@router.post(
    "/applications/{application_id}/post",
    response=responses({200: ApplicationOut}, body=True, forbidden=True, not_found=True),
)
def post_application(request, application_id: Id, body: ApplicationPostIn):
    """Post the accepted application publicly for two working days."""
    app = _get(request, application_id)
    _may(request, app, Cap.APPLICATIONS_REVIEW)
    services.post_publicly(actor=request.auth, application=app, starts=body.starts)
    return _one(request, _get(request, application_id))


@router.post(
    "/applications/{application_id}/decide",
    response=responses({200: ApplicationOut}, body=True, forbidden=True, not_found=True),
)
def decide_application(request, application_id: Id, body: ApplicationDecideIn):
    """The chairperson's decision, once the posting has ended: an approval creates (or restarts)
    the beneficiary in the registry."""
    app = _get(request, application_id)
    _may(request, app, Cap.REGISTRY_DECIDE)
    services.decide(actor=request.auth, application=app, **body.dict())
    return _one(request, _get(request, application_id))
