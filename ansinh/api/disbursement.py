"""The transfer leg over HTTP (issue 11): a cycle's provider batches (list, build, one with its
files and status imports, its transfers a page at a time, its pain.001 or XLSX file), sending a
batch to the bank and asking for its status, importing a status file (pain.002 or the provider's
XLSX results), and the office's transfer exceptions with their resolutions.

Who: those who operate the transfers (payroll.prepare, payments.provide in the cycle's area)
act; payroll.approve and reports.view read. Another area's batch, cycle, status file or exception
is a 404; a reader's write is a 403; a refusal of the rules a 422 with the reason. The rules live
in ansinh.disbursement. Choice values are codes, each with a Vietnamese `*_label` next to it."""

from __future__ import annotations

import math
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile

from ansinh.disbursement import queries, resolution, sending, statuses
from ansinh.disbursement.batches import BatchForbidden, build_batches, file_name, may_operate, write_file
from ansinh.disbursement.formats.errors import FormatError
from ansinh.disbursement.models import (
    FileFormat,
    ImportSource,
    Instruction,
    InstructionState,
    ProviderBatch,
    Resolution,
    RowOutcome,
    StatusImport,
    TransferException,
)
from ansinh.payments.models import ReceivingAccount

from .common import Id, responses, text

router = Router(tags=["disbursement"])

PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES: dict[str, str] = {FileFormat.PAIN001: "application/xml", FileFormat.XLSX: XLSX}

BatchStateValue = Literal["created", "exported", "acknowledged", "partly_reported", "reported", "closed"]
InstructionStateValue = Literal["created", "held", "sent", "accepted", "credited", "rejected", "cancelled"]
ExceptionStateFilter = Literal["open", "in_hand", "resolved", "unresolved", "all"]
KindValue = Literal["rejected", "held", "late_credit", "mismatch", "no_answer"]


# --- schemas ---------------------------------------------------------------------------------------


class TransferCountOut(Schema):
    state: str
    state_label: str
    count: int


class FileOut(Schema):
    format: Literal["pain.001", "xlsx"]
    format_label: str
    sha256: str
    size: int
    instructions_count: int
    total_amount: int
    times: int = Field(..., description="how many times the same bytes were written (downloaded or sent)")
    created_at: datetime


class OutcomeOut(Schema):
    outcome: str
    outcome_label: str
    count: int


class StatusAmountOut(Schema):
    state: str
    state_label: str
    count: int
    amount: int = Field(..., description="whole đồng")


class StatusImportOut(Schema):
    id: int
    source: Literal["pain.002", "xlsx"]
    source_label: str
    file_name: str
    state: Literal["applied", "refused"]
    state_label: str
    refused_reason: str
    batch_id: int | None
    message_id: str = Field(..., description="the status report's own message id")
    original_message_id: str = Field(..., description="the batch's message id it answers")
    rows: int
    outcomes: list[OutcomeOut]
    per_status: list[StatusAmountOut] = Field(..., description="the statuses applied, with their amounts")
    unknown_ids: list[str] = Field(..., description="end-to-end ids no transfer of the batch has (first 50)")
    mismatches: list[dict[str, Any]] = Field(..., description="end_to_end_id, expected and answered amount (first 50)")
    created_at: datetime


class TransferBatchOut(Schema):
    id: int
    cycle_id: int
    month: date
    provider_id: int
    provider: str
    sequence: int
    message_id: str
    state: BatchStateValue
    state_label: str
    instructions_count: int
    total_amount: int = Field(..., description="whole đồng")
    created_at: datetime
    exported_at: datetime | None
    submitted_at: datetime | None
    acknowledged_at: datetime | None
    reported_at: datetime | None
    closed_at: datetime | None
    last_query_at: datetime | None
    progress: list[TransferCountOut] = Field(..., description="transfers per state")
    open_exceptions: int


class BatchDetailOut(TransferBatchOut):
    files: list[FileOut]
    status_imports: list[StatusImportOut] = Field(..., description="the latest 20")


class BatchPage(Schema):
    items: list[TransferBatchOut]
    count: int
    page: int
    pages: int


class BatchFilters(Schema):
    cycle_id: Id | None = None
    state: BatchStateValue | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class TransferBuildOut(Schema):
    created: int = Field(..., description="transfers added by this call (0 when the batches were complete)")
    held: int = Field(..., description="of them, held: a stop was recorded after approval")
    refusals: list[str]
    batches: list[TransferBatchOut]


class InstructionOut(Schema):
    id: int
    end_to_end_id: str
    line_id: int
    payee: str
    account: str = Field(..., description="institution and last four digits only")
    amount: int
    state: InstructionStateValue
    state_label: str
    bank_status: str = Field(..., description="ISO 20022 status code of the last answer (ACSC, RJCT…)")
    reason_code: str
    reason: str = Field(..., description="why it was not credited, in Vietnamese")
    status_at: datetime | None
    resend_of_id: int | None


class InstructionPage(Schema):
    items: list[InstructionOut]
    count: int
    page: int
    pages: int


class InstructionFilters(Schema):
    state: InstructionStateValue | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class FileFilter(Schema):
    format: Literal["pain.001", "xlsx"] = "pain.001"


class SendOut(Schema):
    batch: TransferBatchOut
    message: str
    status_import: StatusImportOut | None


class ExceptionOut(Schema):
    id: int
    kind: KindValue
    kind_label: str
    state: Literal["open", "in_hand", "resolved"]
    state_label: str
    reason: str = Field(..., description="what happened, in Vietnamese")
    batch_id: int
    message_id: str
    cycle_id: int
    instruction_id: int | None
    end_to_end_id: str | None
    line_id: int | None
    beneficiary_id: int | None
    beneficiary: str | None
    payee: str | None
    amount: int | None
    fix_id: int | None = Field(..., description="the same-month fix asked for (awaiting a second person)")
    resolution: str
    resolution_label: str
    note: str
    created_at: datetime
    resolved_at: datetime | None


class ExceptionPage(Schema):
    items: list[ExceptionOut]
    count: int
    page: int
    pages: int


class ExceptionFilters(Schema):
    state: ExceptionStateFilter = Field("unresolved", description="unresolved: open or in hand")
    kind: KindValue | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class ExceptionFixIn(Schema):
    kind: Literal["resend", "to_cash"]
    account_id: Id | None = Field(None, description="resend: an active account of the beneficiary")
    reason: str = text(max_length=2000, min_length=1)


class HoldIn(Schema):
    release: bool = Field(..., description="true: pay this month anyway; false: not paid, the stop stands")
    note: str = text(max_length=2000, min_length=1)


class OverpaymentIn(Schema):
    recover: bool = Field(
        ..., description="true: an overpayment to recover from the payee; false: checked with the provider"
    )
    note: str = text(max_length=2000, min_length=1)


class TransferFixOut(Schema):
    id: int
    kind: Literal["resend", "to_cash"]
    state: str
    state_label: str
    exception: ExceptionOut


# --- helpers ---------------------------------------------------------------------------------------------


def _pages(count: int) -> int:
    return max(1, math.ceil(count / PAGE_SIZE))


def _page(qs, page: int) -> tuple[list, int]:
    count = qs.count()
    start = (page - 1) * PAGE_SIZE
    return list(qs[start : start + PAGE_SIZE]), count


def _counts(values: dict, choices) -> list[dict]:
    labels = dict(choices)
    return [{"state": k, "state_label": str(labels.get(k, k)), "count": n} for k, n in values.items() if k]


def _order(values: dict, choices) -> dict:
    order = [v for v, _label in choices]
    return dict(sorted(values.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def _job_out(job: StatusImport) -> dict:
    summary = job.summary or {}
    outcome_labels = dict(RowOutcome.choices)
    state_labels = dict(InstructionState.choices)
    amounts = summary.get("amounts") or {}
    return {
        "id": job.pk,
        "source": job.source,
        "source_label": str(job.get_source_display()),
        "file_name": job.file_name,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "refused_reason": job.refused_reason,
        "batch_id": job.batch_id,
        "message_id": job.message_id,
        "original_message_id": job.original_message_id,
        "rows": summary.get("rows", 0),
        "outcomes": [
            {"outcome": k, "outcome_label": str(outcome_labels.get(k, k)), "count": n}
            for k, n in _order(summary.get("outcomes", {}), RowOutcome.choices).items()
        ],
        "per_status": [
            {"state": k, "state_label": str(state_labels.get(k, k)), "count": n, "amount": amounts.get(k, 0)}
            for k, n in _order(summary.get("per_status", {}), InstructionState.choices).items()
            if k
        ],
        "unknown_ids": summary.get("unknown_ids", []),
        "mismatches": summary.get("mismatches", []),
        "created_at": job.created_at,
    }


def _batch_out(b: ProviderBatch) -> dict:
    return {
        "id": b.pk,
        "cycle_id": b.cycle_id,
        "month": b.cycle.month,
        "provider_id": b.provider_id,
        "provider": b.provider.name,
        "sequence": b.sequence,
        "message_id": b.message_id,
        "state": b.state,
        "state_label": str(b.get_state_display()),
        "instructions_count": b.instructions_count,
        "total_amount": b.total_amount,
        "created_at": b.created_at,
        "exported_at": b.exported_at,
        "submitted_at": b.submitted_at,
        "acknowledged_at": b.acknowledged_at,
        "reported_at": b.reported_at,
        "closed_at": b.closed_at,
        "last_query_at": b.last_query_at,
        "progress": _counts(_order(queries.state_counts(b), InstructionState.choices), InstructionState.choices),
        "open_exceptions": queries.open_exceptions_of(b),
    }


def _batch_detail(b: ProviderBatch) -> dict:
    files = [
        {
            "format": f.file_format,
            "format_label": str(f.get_file_format_display()),
            "sha256": f.sha256,
            "size": f.size,
            "instructions_count": f.instructions_count,
            "total_amount": f.total_amount,
            "times": f.times,
            "created_at": f.created_at,
        }
        for f in b.files.order_by("created_at", "id")
    ]
    jobs = StatusImport.objects.filter(batch=b).order_by("-created_at", "-id")[:20]
    return _batch_out(b) | {"files": files, "status_imports": [_job_out(j) for j in jobs]}


def _instruction_out(i: Instruction) -> dict:
    return {
        "id": i.pk,
        "end_to_end_id": i.end_to_end_id,
        "line_id": i.line_id,
        "payee": i.line.payee_name,
        "account": i.masked_account,
        "amount": i.amount,
        "state": i.state,
        "state_label": str(i.get_state_display()),
        "bank_status": i.bank_status,
        "reason_code": i.reason_code,
        "reason": queries.instruction_reason(i),
        "status_at": i.status_at,
        "resend_of_id": i.resend_of_id,
    }


def _exception_out(e: TransferException) -> dict:
    line = e.line
    instruction = e.instruction
    return {
        "id": e.pk,
        "kind": e.kind,
        "kind_label": str(e.get_kind_display()),
        "state": e.state,
        "state_label": str(e.get_state_display()),
        "reason": queries.exception_reason(e),
        "batch_id": e.batch_id,
        "message_id": e.batch.message_id,
        "cycle_id": e.batch.cycle_id,
        "instruction_id": e.instruction_id,
        "end_to_end_id": instruction.end_to_end_id if instruction is not None else None,
        "line_id": e.line_id,
        "beneficiary_id": line.beneficiary_id if line else None,
        "beneficiary": line.beneficiary.full_name if line else None,
        "payee": line.payee_name if line else None,
        "amount": queries.exception_amount(e),
        "fix_id": e.fix_id,
        "resolution": e.resolution,
        "resolution_label": str(Resolution(e.resolution).label) if e.resolution else "",
        "note": e.note,
        "created_at": e.created_at,
        "resolved_at": e.resolved_at,
    }


def _forbidden() -> HttpError:
    return HttpError(403, _("Your role does not allow sending transfers here."))


def _batch(request, batch_id: int) -> ProviderBatch:
    return get_object_or_404(queries.batches_for(request.auth), pk=batch_id)


def _operated_batch(request, batch_id: int) -> ProviderBatch:
    batch = _batch(request, batch_id)
    if not may_operate(request.auth, batch.cycle):
        raise _forbidden()
    return batch


def _exception(request, exc_id: int) -> TransferException:
    return get_object_or_404(queries.exceptions_for(request.auth), pk=exc_id)


def _resolvable(request, exc_id: int) -> TransferException:
    exc = _exception(request, exc_id)
    if not queries.may_resolve(request.auth, exc):
        raise HttpError(403, _("Your role does not allow resolving transfer exceptions here."))
    return exc


def _format_refused(exc: Exception) -> ValidationError:
    return ValidationError(str(exc))


# --- batches ---------------------------------------------------------------------------------------------


@router.get("/disbursement/batches", response=responses({200: BatchPage}))
def list_batches(request, filters: Query[BatchFilters]):
    """The provider batches of the user's areas, newest month first, 100 a page."""
    qs = queries.batches_for(request.auth).order_by("-cycle__month", "cycle_id", "provider__name", "sequence")
    if filters.cycle_id:
        qs = qs.filter(cycle_id=filters.cycle_id)
    if filters.state:
        qs = qs.filter(state=filters.state)
    rows, count = _page(qs, filters.page)
    return {"items": [_batch_out(b) for b in rows], "count": count, "page": filters.page, "pages": _pages(count)}


@router.post(
    "/disbursement/cycles/{cycle_id}/batches",
    response=responses({200: TransferBuildOut}, forbidden=True, not_found=True),
)
def post_batches(request, cycle_id: Id):
    """Make (or complete) the cycle's batches: a transfer for every account-channel line that has
    none yet. Running it again adds nothing. Returns what was added and all the cycle's batches;
    422 when the cycle is not approved and funded."""
    cycle = get_object_or_404(queries.cycles_for(request.auth), pk=cycle_id)
    if not may_operate(request.auth, cycle):
        raise _forbidden()
    try:
        result = build_batches(actor=request.auth, cycle=cycle)
    except BatchForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    batches = queries.batches_for(request.auth).filter(cycle=cycle).order_by("provider__name", "sequence")
    return {
        "created": result.created,
        "held": result.held,
        "refusals": result.refusals,
        "batches": [_batch_out(b) for b in batches],
    }


@router.get(
    "/disbursement/batches/{batch_id}",
    response=responses({200: BatchDetailOut}, not_found=True),
)
def get_batch(request, batch_id: Id):
    return _batch_detail(_batch(request, batch_id))


@router.get(
    "/disbursement/batches/{batch_id}/instructions",
    response=responses({200: InstructionPage}, not_found=True),
)
def list_instructions(request, batch_id: Id, filters: Query[InstructionFilters]):
    """The batch's transfers in id order, 100 a page (account numbers masked)."""
    batch = _batch(request, batch_id)
    qs = Instruction.objects.filter(batch=batch).select_related("line").order_by("id")
    if filters.state:
        qs = qs.filter(state=filters.state)
    rows, count = _page(qs, filters.page)
    return {
        "items": [_instruction_out(i) for i in rows],
        "count": count,
        "page": filters.page,
        "pages": _pages(count),
    }


@router.get(
    "/disbursement/batches/{batch_id}/file",
    response=responses({200: None}, forbidden=True, not_found=True),
    openapi_extra={
        "responses": {
            "200": {
                "description": "The batch's pain.001 (XML) or the provider's account list (XLSX)",
                "content": {"application/xml": {}, XLSX: {}},
            }
        }
    },
)
def get_batch_file(request, batch_id: Id, filters: Query[FileFilter]):
    """Write the batch's file: the first write records the batch as exported (its transfers are
    then with the bank); every later one is byte-identical. Audited as an export."""
    batch = _operated_batch(request, batch_id)
    file_format = filters.format
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    try:
        write_file(actor=request.auth, batch=batch, file_format=file_format, out=handle)
    except BatchForbidden as exc:
        handle.close()
        raise HttpError(403, str(exc)) from exc
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return FileResponse(
        handle, as_attachment=True, filename=file_name(batch, file_format), content_type=CONTENT_TYPES[file_format]
    )


def _send_out(request, result) -> dict:
    batch = _batch(request, result.batch.pk)
    return {
        "batch": _batch_out(batch),
        "message": result.message,
        "status_import": _job_out(result.job) if result.job is not None else None,
    }


@router.post(
    "/disbursement/batches/{batch_id}/submit",
    response=responses({200: SendOut}, forbidden=True, not_found=True),
)
def post_submit(request, batch_id: Id):
    """Send the batch's pain.001 to the bank (once): the answer, when there is one, is imported.
    A timeout is recorded as "no answer": ask for the status, never send again (422)."""
    batch = _operated_batch(request, batch_id)
    try:
        result = sending.submit_batch(actor=request.auth, batch=batch)
    except BatchForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    except FormatError as exc:
        raise _format_refused(exc) from exc
    return _send_out(request, result)


@router.post(
    "/disbursement/batches/{batch_id}/query",
    response=responses({200: SendOut}, forbidden=True, not_found=True),
)
def post_query(request, batch_id: Id):
    """Ask the bank for the batch's latest status (never resends) and import it."""
    batch = _operated_batch(request, batch_id)
    try:
        result = sending.query_status(actor=request.auth, batch=batch)
    except BatchForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    except FormatError as exc:
        raise _format_refused(exc) from exc
    return _send_out(request, result)


@router.post(
    "/disbursement/batches/{batch_id}/status-files",
    response=responses({200: StatusImportOut}, body=True, forbidden=True, not_found=True),
)
def post_status_file(
    request,
    batch_id: Id,
    file: File[UploadedFile] = None,  # type: ignore[assignment]
    format: Form[Literal["pain.002", "xlsx"]] = "pain.002",  # noqa: A002 (the form field's name)
):
    """Import a status file for the batch (multipart: `file`, and `format` pain.002 or xlsx).
    The same content again returns the job already there and changes nothing; a report for
    another message, or for a file whose count or total differs from the approved batch, is
    refused (the job says why). 422 when the file cannot be read."""
    batch = _operated_batch(request, batch_id)
    if file is None:
        raise ValidationError({"file": _("Choose the status file to import.")})
    if format not in ImportSource.values:
        raise ValidationError({"format": _("Unknown file format.")})
    try:
        job = statuses.import_file(
            actor=request.auth,
            upload=file,  # type: ignore[arg-type]
            source=format,
            file_name=Path(file.name or "").name,
            batch=batch,
        )
    except BatchForbidden as exc:
        raise HttpError(403, str(exc)) from exc
    except FormatError as exc:
        raise _format_refused(exc) from exc
    return _job_out(job)


@router.get(
    "/disbursement/status-imports/{job_id}",
    response=responses({200: StatusImportOut}, not_found=True),
)
def get_status_import(request, job_id: Id):
    return _job_out(get_object_or_404(queries.imports_for(request.auth), pk=job_id))


# --- exceptions ------------------------------------------------------------------------------------------


@router.get("/disbursement/exceptions", response=responses({200: ExceptionPage}))
def list_exceptions(request, filters: Query[ExceptionFilters]):
    """The transfer exceptions of the user's areas (default: those still to resolve), 100 a page."""
    state = {"unresolved": ""}.get(filters.state, filters.state)
    qs = queries.filter_exceptions(queries.exceptions_for(request.auth), state=state, kind=filters.kind or "")
    rows, count = _page(queries.worklist_order(qs), filters.page)
    return {"items": [_exception_out(e) for e in rows], "count": count, "page": filters.page, "pages": _pages(count)}


@router.get(
    "/disbursement/exceptions/{exc_id}",
    response=responses({200: ExceptionOut}, not_found=True),
)
def get_exception(request, exc_id: Id):
    return _exception_out(_exception(request, exc_id))


@router.post(
    "/disbursement/exceptions/{exc_id}/fix",
    response=responses({200: TransferFixOut}, body=True, forbidden=True, not_found=True),
)
def post_exception_fix(request, exc_id: Id, payload: ExceptionFixIn):
    """A rejected transfer: resend to a corrected account of the beneficiary (`account_id`) or pay
    in cash this month. The fix then awaits a second person's approval (payroll fixes)."""
    exc = _resolvable(request, exc_id)
    account = None
    if payload.kind == "resend":
        beneficiary_id = queries.beneficiary_id_of(exc) or 0
        account = ReceivingAccount.objects.filter(pk=payload.account_id or 0, beneficiary_id=beneficiary_id).first()
        if account is None:
            raise ValidationError({"account_id": _("Choose the corrected account to send the money to.")})
    try:
        fix = resolution.ask_fix(
            actor=request.auth, exception=exc, kind=payload.kind, account=account, reason=payload.reason
        )
    except BatchForbidden as error:
        raise HttpError(403, str(error)) from error
    return {
        "id": fix.pk,
        "kind": fix.kind,
        "state": fix.state,
        "state_label": str(fix.get_state_display()),
        "exception": _exception_out(_exception(request, exc.pk)),
    }


@router.post(
    "/disbursement/exceptions/{exc_id}/hold",
    response=responses({200: ExceptionOut}, body=True, forbidden=True, not_found=True),
)
def post_exception_hold(request, exc_id: Id, payload: HoldIn):
    """A held transfer: not paid (the stop stands) or released and sent this month."""
    exc = _resolvable(request, exc_id)
    try:
        resolution.settle_hold(actor=request.auth, exception=exc, release=payload.release, note=payload.note)
    except BatchForbidden as error:
        raise HttpError(403, str(error)) from error
    return _exception_out(_exception(request, exc.pk))


@router.post(
    "/disbursement/exceptions/{exc_id}/overpayment",
    response=responses({200: ExceptionOut}, body=True, forbidden=True, not_found=True),
)
def post_exception_overpayment(request, exc_id: Id, payload: OverpaymentIn):
    """A late credit after a switch to cash, or an amount that differs: an overpayment to recover
    from the payee, or noted after checking with the provider."""
    exc = _resolvable(request, exc_id)
    try:
        resolution.settle_overpayment(actor=request.auth, exception=exc, recover=payload.recover, note=payload.note)
    except BatchForbidden as error:
        raise HttpError(403, str(error)) from error
    return _exception_out(_exception(request, exc.pk))
