"""Identity verification over HTTP: the verification runs of the user's communes, a run's
results (CCCDs masked), and starting a run (commune police). The rules live in
`ansinh.verification`; another area's run is a 404."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.verification import queries
from ansinh.verification.adapters import AdapterError
from ansinh.verification.models import VerificationResult, VerificationRun
from ansinh.verification.services import run_verification

from .common import Id, Message, responses

router = Router(tags=["verification"])

PAGE_SIZE = 100
OutcomeValue = Literal["match", "mismatch", "not_found", "deceased"]


class RunOut(Schema):
    id: int
    commune_id: int
    run_date: date
    sequence: int = Field(..., description="The run's number on its day for its commune (runs are versioned).")
    source: str
    started_at: datetime
    finished_at: datetime | None
    checked: int
    matched: int
    mismatched: int
    not_found: int
    deceased: int
    without_cccd: int


class RunIn(Schema):
    commune_id: Id


class ResultOut(Schema):
    id: int
    beneficiary_id: int | None
    representative_id: int | None
    full_name: str
    cccd_masked: str
    outcome: OutcomeValue
    mismatched_fields: list[str]
    death_date: date | None
    stop_proposed: bool = Field(..., description="A deceased beneficiary: a stop decision for an officer to confirm.")
    source: str
    checked_at: datetime


class ResultPage(Schema):
    items: list[ResultOut]
    count: int
    page: int
    pages: int


class ResultFilters(Schema):
    outcome: OutcomeValue | None = None
    page: int = Field(1, ge=1, le=1_000_000)


def _reader(request) -> None:
    if not queries.may_read(request.auth):
        raise HttpError(403, _("Your role does not allow reading identity verification."))


def _run(r: VerificationRun) -> dict:
    return {f: getattr(r, f) for f in RunOut.model_fields}


def _result(r: VerificationResult) -> dict:
    return {
        "id": r.pk,
        "beneficiary_id": r.beneficiary_id,
        "representative_id": r.representative_id,
        "full_name": r.full_name,
        "cccd_masked": r.masked_cccd,
        "outcome": r.outcome,
        "mismatched_fields": r.mismatched_fields,
        "death_date": r.death_date,
        "stop_proposed": r.stop_proposed,
        "source": r.source,
        "checked_at": r.checked_at,
    }


@router.get("/verification/runs", response=responses({200: list[RunOut]}, params=False, forbidden=True))
def list_runs(request):
    """The latest 200 verification runs in the user's areas, newest first."""
    _reader(request)
    return [_run(r) for r in queries.runs_for(request.auth)[:200]]


@router.get("/verification/runs/{run_id}", response=responses({200: RunOut}, forbidden=True, not_found=True))
def get_run(request, run_id: Id):
    _reader(request)
    return _run(get_object_or_404(queries.runs_for(request.auth), pk=run_id))


@router.get(
    "/verification/runs/{run_id}/results", response=responses({200: ResultPage}, forbidden=True, not_found=True)
)
def list_results(request, run_id: Id, filters: Query[ResultFilters]):
    """A run's results, CCCDs masked, 100 a page."""
    _reader(request)
    run = get_object_or_404(queries.runs_for(request.auth), pk=run_id)
    results = queries.results_for(request.auth).filter(run=run).order_by("id")
    if filters.outcome:
        results = results.filter(outcome=filters.outcome)
    count = results.count()
    start = (filters.page - 1) * PAGE_SIZE
    return {
        "items": [_result(r) for r in results[start : start + PAGE_SIZE]],
        "count": count,
        "page": filters.page,
        "pages": max(1, math.ceil(count / PAGE_SIZE)),
    }


@router.post(
    "/verification/runs",
    response=responses({201: RunOut, 503: Message}, body=True, forbidden=True, not_found=True),
)
def start_run(request, payload: RunIn):
    """Verify the identities of a commune's people now (commune police). Each run is a new
    version; earlier runs stay. 503 when the population database cannot answer (nothing stored)."""
    commune = get_object_or_404(access.areas_for(request.auth).filter(level=Level.COMMUNE), pk=payload.commune_id)
    if not access.can_in_area(request.auth, Cap.IDENTITY_VERIFY, commune):
        raise HttpError(403, _("Your role does not allow verifying identities in this commune."))
    try:
        run = run_verification(actor=request.auth, commune=commune)
    except AdapterError as exc:
        message = _("The population database did not answer; nothing was recorded. Try again later.")
        raise HttpError(503, message) from exc
    return Status(201, _run(run))
