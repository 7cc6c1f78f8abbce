"""Account opening over HTTP: the requests of the user's areas (list, create, confirm, cancel),
the batches sent to the provider (list, export a commune's confirmed requests) and the import of
the provider's results for a batch. Scoped like the rest: another area's request or batch is a
404; a user who may see it but not act gets a 403. CCCDs appear only masked."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.openings import queries, services
from ansinh.openings.models import OpeningBatch, OpeningRequest, RequestStatus

from .common import Id, responses, text
from .registry import _beneficiary

router = Router(tags=["account opening"])

PAGE_SIZE = 100
MAX_FILE = 10 * 1024 * 1024


class OpeningOut(Schema):
    id: int
    code: str = Field(..., description="The request code the provider's file carries back.")
    beneficiary_id: int
    representation_id: int | None = Field(None, description="Empty: the beneficiary opens the account.")
    commune_id: int
    status: RequestStatus
    switch_method: bool
    institution: str
    cccd_masked: str = Field(..., description="The CCCD sent to the provider, masked (empty until sent).")
    requested_at: datetime
    confirmed_at: datetime | None
    batch_id: int | None
    account_id: int | None
    opened_on: date | None
    reject_reason: str


class OpeningPage(Schema):
    items: list[OpeningOut]
    count: int
    page: int
    pages: int


class OpeningFilters(Schema):
    status: RequestStatus | None = None
    commune_id: Id | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class OpeningIn(Schema):
    beneficiary_id: Id
    representation_id: Id | None = Field(None, description="A current representative; empty: the beneficiary.")
    switch_method: bool = Field(False, description="Pay to the account from the month after it is opened.")


class BatchOut(Schema):
    id: int
    commune_id: int
    institution: str
    exported_at: datetime
    file_name: str
    sha256: str
    count: int


class BatchIn(Schema):
    commune_id: Id


class ResultsIn(Schema):
    file_name: str = text(max_length=255, min_length=1, description="e.g. ket-qua.xlsx or ket-qua.csv")
    content_base64: str = text(max_length=15_000_000, min_length=1, description="The file, base64-encoded.")


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class ResultsOut(Schema):
    import_id: int | None = Field(None, description="The import written (or the earlier one, for a duplicate).")
    duplicate: bool = Field(..., description="The same file was imported before: nothing changed.")
    written: bool
    rows: int
    opened: int
    rejected: int
    unchanged: int
    activated: int
    to_review: int
    switch_requested: int
    switch_waiting: int
    error_rows: int
    errors: list[RowErrorOut]


def _out(r: OpeningRequest) -> dict:
    return {
        "id": r.pk,
        "code": r.code,
        "beneficiary_id": r.beneficiary_id,
        "representation_id": r.representation_id,
        "commune_id": r.commune_id,
        "status": r.status,
        "switch_method": r.switch_method,
        "institution": r.institution.code,
        "cccd_masked": r.masked_cccd,
        "requested_at": r.requested_at,
        "confirmed_at": r.confirmed_at,
        "batch_id": r.batch_id,
        "account_id": r.account_id,
        "opened_on": r.opened_on,
        "reject_reason": r.reject_reason,
    }


def _batch(b: OpeningBatch) -> dict:
    return {
        "id": b.pk,
        "commune_id": b.commune_id,
        "institution": b.institution.code,
        "exported_at": b.exported_at,
        "file_name": b.file_name,
        "sha256": b.sha256,
        "count": b.count,
    }


def _reader(request) -> None:
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading account-opening requests."))


def _may_manage(request) -> None:
    if not access.has_cap(request.auth, Cap.OPENINGS_MANAGE):
        raise HttpError(403, _("Your role does not allow managing account opening."))


def _manager(request, area) -> None:
    if not access.can_in_area(request.auth, Cap.OPENINGS_MANAGE, area):
        raise HttpError(403, _("Your role does not allow managing account opening here."))


@router.get("/openings/requests", response=responses({200: OpeningPage}, forbidden=True))
def list_requests(request, filters: Query[OpeningFilters]):
    """Account-opening requests of the user's areas, latest first, 100 a page."""
    _reader(request)
    qs = queries.requests_for(request.auth).select_related("institution").order_by("-requested_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.commune_id:
        qs = qs.filter(commune_id=filters.commune_id)
    count = qs.count()
    start = (filters.page - 1) * PAGE_SIZE
    items = [_out(r) for r in qs[start : start + PAGE_SIZE]]
    return {"items": items, "count": count, "page": filters.page, "pages": max(1, math.ceil(count / PAGE_SIZE))}


@router.post(
    "/openings/requests",
    response=responses({201: OpeningOut}, body=True, forbidden=True, not_found=True),
)
def create_request(request, payload: OpeningIn):
    """Ask the provider to open a free account for the beneficiary or one of their representatives
    (the person needs a CCCD and a phone in the registry); it waits for the commune's confirmation."""
    b = _beneficiary(request, payload.beneficiary_id, Cap.OPENINGS_REQUEST)
    link = None
    if payload.representation_id is not None:
        link = b.representations.filter(pk=payload.representation_id, ended_at__isnull=True).first()
        if link is None:
            raise ValidationError({"representation_id": _("This representative does not act for the beneficiary.")})
    req = services.request_opening(
        actor=request.auth, beneficiary=b, representation=link, switch_method=payload.switch_method
    )
    req = OpeningRequest.objects.select_related("institution").get(pk=req.pk)
    return Status(201, _out(req))


@router.post(
    "/openings/requests/{request_id}/confirm",
    response=responses({200: OpeningOut}, forbidden=True, not_found=True),
)
def confirm_request(request, request_id: Id):
    """The commune confirms a request (it goes into the next file for the provider)."""
    _may_manage(request)
    req = get_object_or_404(queries.requests_for(request.auth).select_related("commune"), pk=request_id)
    _manager(request, req.commune)
    if req.status != RequestStatus.REQUESTED:
        raise ValidationError(_("Only a request awaiting the commune can be confirmed."))
    services.confirm_requests(actor=request.auth, requests=[req])
    return _out(OpeningRequest.objects.select_related("institution").get(pk=req.pk))


@router.post(
    "/openings/requests/{request_id}/cancel",
    response=responses({200: OpeningOut}, forbidden=True, not_found=True),
)
def cancel_request(request, request_id: Id):
    """Withdraw a request not yet sent to the provider."""
    _reader(request)
    req = get_object_or_404(queries.requests_for(request.auth), pk=request_id)
    try:
        services.cancel_request(actor=request.auth, request=req)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or _("Only the commune can cancel a confirmed request.")) from exc
    return _out(OpeningRequest.objects.select_related("institution").get(pk=req.pk))


@router.get("/openings/batches", response=responses({200: list[BatchOut]}, params=False, forbidden=True))
def list_batches(request):
    """The batches sent to the provider from the communes where the user manages account opening
    (latest 200)."""
    _may_manage(request)
    return [_batch(b) for b in queries.batches_for(request.auth).select_related("institution")[:200]]


@router.post(
    "/openings/batches",
    response=responses({201: BatchOut}, body=True, forbidden=True, not_found=True),
)
def export_batch(request, payload: BatchIn):
    """Put every confirmed request of a commune in one file for the provider (download it from the
    staff pages: it holds full CCCDs)."""
    _may_manage(request)
    commune = get_object_or_404(queries.managed_communes(request.auth), pk=payload.commune_id)
    batch = services.export_batch(actor=request.auth, commune=commune)
    return Status(201, _batch(batch))


@router.post(
    "/openings/batches/{batch_id}/results",
    response=responses({200: ResultsOut}, body=True, forbidden=True, not_found=True),
)
def import_results(request, batch_id: Id, payload: ResultsIn):
    """Import the provider's results for a batch (XLSX or CSV, base64). All or nothing: with any
    row error nothing is written (`written` false) and `errors` lists the rows; the same file
    twice changes nothing (`duplicate`)."""
    _may_manage(request)
    batch = get_object_or_404(queries.batches_for(request.auth).select_related("commune"), pk=batch_id)
    _manager(request, batch.commune)
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"content_base64": _("The file is not base64-encoded.")}) from None
    if len(content) > MAX_FILE:
        raise ValidationError({"content_base64": _("The file is larger than 10 MB.")})
    outcome = services.import_results(actor=request.auth, content=content, file_name=payload.file_name, batch=batch)
    summary = outcome.summary()
    summary["import_id"] = summary.pop("import")
    return summary
