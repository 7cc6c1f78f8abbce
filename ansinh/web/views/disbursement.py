"""Transfer pages of the payment cycle (issue 11): the cycle's provider batches (build them,
download their files, send them to the bank, ask for their status, import a status file), one
batch's transfers, the office's worklist of transfer exceptions with their actions, and the
sandbox bank.

Who: those who operate the transfers (`batches.may_operate`: the office with payroll.prepare,
the provider's staff with payments.provide) act; the approver and the reading roles
(payroll.approve, reports.view) see the same pages without buttons, and a POST of theirs is a
403 that writes nothing. Exceptions are resolved by the office (payroll.prepare in the
exception's commune). Another area's cycle, batch or exception is a 404
(`disbursement.queries`). The rules live in ansinh.disbursement; a refusal of theirs becomes a
message on the page."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.core.errors import DomainError
from ansinh.disbursement import queries, resolution, sandbox, sending, statuses
from ansinh.disbursement.batches import BATCHABLE_STATES, build_batches, file_name, may_operate, write_file
from ansinh.disbursement.formats.errors import FormatError
from ansinh.disbursement.models import (
    BatchState,
    ExceptionKind,
    ExceptionState,
    FileFormat,
    ImportSource,
    ImportState,
    Instruction,
    InstructionState,
    ProviderBatch,
    RowOutcome,
    StatusImport,
    TransferException,
)
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.payroll.models import FixKind

from ..shortcuts import paginate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the file formats in URLs (no dot) → FileFormat
URL_FORMATS = {"pain001": FileFormat.PAIN001, "xlsx": FileFormat.XLSX}
CONTENT_TYPES: dict[str, str] = {FileFormat.PAIN001: "application/xml", FileFormat.XLSX: XLSX}
MAX_UPLOAD = 512 * 1024 * 1024
JOBS_SHOWN = 10
SENDABLE = (BatchState.CREATED, BatchState.EXPORTED)
ERRORS = (DomainError, ValidationError, FormatError, sandbox.SandboxRefused)


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


def _fail(request, exc: Exception) -> None:
    for message in _errors(exc):
        messages.error(request, message)


# --- forms ------------------------------------------------------------------------------------------


class StatusFileForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Kind of file"), choices=ImportSource.choices)
    file = forms.FileField(label=gettext_lazy("Status file from the bank or the provider"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise ValidationError(_("The file is too large."))
        return upload


class InstructionFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("— all —")), *InstructionState.choices],
    )


class ExceptionFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[
            ("", gettext_lazy("Still to resolve")),
            *ExceptionState.choices,
            ("all", gettext_lazy("— all —")),
        ],
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Exception"),
        required=False,
        choices=[("", gettext_lazy("— all —")), *ExceptionKind.choices],
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class FixForm(forms.Form):
    kind = forms.ChoiceField(choices=FixKind.choices)
    account = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000)


class SandboxUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Transfer order (pain.001)"))


class SandboxQueryForm(forms.Form):
    message_id = forms.CharField(label=gettext_lazy("Message id of the batch"), max_length=35)


# --- lookups ----------------------------------------------------------------------------------------


def _cycle(request, pk: int):
    cycle = get_object_or_404(queries.cycles_for(request.user), pk=pk)
    if not queries.may_view(request.user, cycle):
        raise PermissionDenied
    return cycle


def _batch(request, batch_id: int) -> ProviderBatch:
    batch = get_object_or_404(queries.batches_for(request.user), pk=batch_id)
    if not queries.may_view(request.user, batch.cycle):
        raise PermissionDenied
    return batch


def _exception(request, exc_id: int) -> TransferException:
    return get_object_or_404(queries.exceptions_for(request.user), pk=exc_id)


def _operate(request, cycle) -> None:
    if not may_operate(request.user, cycle):
        raise PermissionDenied


# --- what the batch section shows ----------------------------------------------------------------------


def _labelled(values: dict, choices) -> list[tuple[str, int]]:
    """(label, value) in the order of `choices`, for the keys present (unknown keys last)."""
    known = dict(choices)
    out = [(str(label), values[value]) for value, label in choices if value in values]
    out += [(str(k), v) for k, v in values.items() if k not in known and k]
    return out


def job_view(job: StatusImport) -> dict:
    """A status import's summary as a person reads it (labels, never codes)."""
    summary = job.summary or {}
    return {
        "job": job,
        "rows": summary.get("rows", 0),
        "outcomes": _labelled(summary.get("outcomes", {}), RowOutcome.choices),
        "per_status": [
            (label, count, (summary.get("amounts") or {}).get(value, 0))
            for value, label in InstructionState.choices
            if (count := (summary.get("per_status") or {}).get(value))
        ],
        "unknown_ids": summary.get("unknown_ids", []),
        "mismatches": summary.get("mismatches", []),
        "refused": job.state == ImportState.REFUSED,
    }


def batch_view(batch: ProviderBatch, *, operate: bool) -> dict:
    progress = queries.state_counts(batch)
    jobs = StatusImport.objects.filter(batch=batch).order_by("-created_at", "-id")[:JOBS_SHOWN]
    sent = batch.state != BatchState.CREATED
    return {
        "batch": batch,
        "progress": _labelled(progress, InstructionState.choices),
        "files": list(batch.files.order_by("created_at", "id")),
        "jobs": [job_view(j) for j in jobs],
        "open_exceptions": queries.open_exceptions_of(batch),
        "may_download": operate,
        # sent once; a batch whose file went to the bank another way and was answered is not sent again
        "may_submit": operate and batch.submitted_at is None and batch.state in SENDABLE,
        "may_query": operate and sent,
        "may_upload": operate and sent,
        "first_export": batch.state == BatchState.CREATED,
    }


# --- the cycle's transfers -------------------------------------------------------------------------------


@require_GET
@login_required
def transfers(request, pk: int):
    cycle = _cycle(request, pk)
    operate = may_operate(request.user, cycle)
    batches = list(queries.batches_for(request.user).filter(cycle=cycle).order_by("provider__name", "sequence"))
    context = {
        "cycle": cycle,
        "batches": [batch_view(b, operate=operate) for b in batches],
        "may_build": operate and cycle.state in BATCHABLE_STATES,
        "operate": operate,
        "status_form": StatusFileForm(),
        "sandbox": operate and sandbox.enabled(),
        "active": "transfers",
    }
    return render(request, "disbursement/transfers.html", context)


@require_POST
@login_required
def transfers_build(request, pk: int):
    cycle = _cycle(request, pk)
    _operate(request, cycle)
    try:
        result = build_batches(actor=request.user, cycle=cycle)
    except ERRORS as exc:
        _fail(request, exc)
    else:
        if result.created:
            messages.success(
                request,
                _("%(count)s transfers were added to the batches; %(held)s of them are held.")
                % {"count": result.created, "held": result.held},
            )
        elif not result.refusals:
            messages.info(request, _("There is no new transfer to add: the batches are complete."))
        for refusal in result.refusals:
            messages.warning(request, refusal)
    return redirect("payroll:transfers", pk=cycle.pk)


@require_GET
@login_required
def batch_file(request, batch_id: int, fmt: str):
    """The batch's pain.001 or XLSX list. Writing it is exporting: the first write records the
    batch as exported (disbursement.batches.write_file), and every download is audited."""
    batch = _batch(request, batch_id)
    file_format = URL_FORMATS.get(fmt)
    if file_format is None:
        raise Http404
    _operate(request, batch.cycle)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    try:
        write_file(actor=request.user, batch=batch, file_format=file_format, out=handle)
    except ERRORS as exc:
        handle.close()
        _fail(request, exc)
        return redirect("payroll:transfers", pk=batch.cycle_id)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=file_name(batch, file_format),
        content_type=CONTENT_TYPES[file_format],
    )


def _job_message(request, job: StatusImport, known_before: int) -> None:
    if job.pk <= known_before:
        messages.info(request, _("This file was imported before: nothing changed."))
    if job.state == ImportState.REFUSED:
        messages.error(request, _("The status file was refused: %(reason)s") % {"reason": job.refused_reason})
        return
    summary = job.summary or {}
    outcomes = summary.get("outcomes", {})
    messages.success(
        request,
        _("Status file imported: %(rows)s statuses, %(applied)s applied, %(unknown)s unknown, %(mismatch)s differ.")
        % {
            "rows": summary.get("rows", 0),
            "applied": outcomes.get(RowOutcome.APPLIED, 0),
            "unknown": outcomes.get(RowOutcome.UNKNOWN, 0),
            "mismatch": outcomes.get(RowOutcome.MISMATCH, 0),
        },
    )


def _last_job_id() -> int:
    return StatusImport.objects.aggregate(m=Max("id"))["m"] or 0


def _back_to(batch: ProviderBatch, request):
    target = request.POST.get("next", "")
    if target == "batch":
        return redirect("payroll:transfer_batch", batch_id=batch.pk)
    return redirect("payroll:transfers", pk=batch.cycle_id)


@require_POST
@login_required
def batch_submit(request, batch_id: int):
    batch = _batch(request, batch_id)
    _operate(request, batch.cycle)
    known = _last_job_id()
    try:
        result = sending.submit_batch(actor=request.user, batch=batch)
    except ERRORS as exc:
        _fail(request, exc)
    else:
        (messages.success if result.job is not None else messages.warning)(request, result.message)
        if result.job is not None:
            _job_message(request, result.job, known)
    return _back_to(batch, request)


@require_POST
@login_required
def batch_query(request, batch_id: int):
    batch = _batch(request, batch_id)
    _operate(request, batch.cycle)
    known = _last_job_id()
    try:
        result = sending.query_status(actor=request.user, batch=batch)
    except ERRORS as exc:
        _fail(request, exc)
    else:
        (messages.success if result.job is not None else messages.warning)(request, result.message)
        if result.job is not None:
            _job_message(request, result.job, known)
    return _back_to(batch, request)


@require_POST
@login_required
def batch_status_file(request, batch_id: int):
    batch = _batch(request, batch_id)
    _operate(request, batch.cycle)
    form = StatusFileForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
        return _back_to(batch, request)
    upload = form.cleaned_data["file"]
    known = _last_job_id()
    try:
        job = statuses.import_file(
            actor=request.user,
            upload=upload,
            source=form.cleaned_data["source"],
            file_name=Path(upload.name or "").name,
            batch=batch,
        )
    except ERRORS as exc:
        _fail(request, exc)
    else:
        _job_message(request, job, known)
    return _back_to(batch, request)


# --- one batch's transfers ---------------------------------------------------------------------------------


@require_GET
@login_required
def batch_detail(request, batch_id: int):
    batch = _batch(request, batch_id)
    operate = may_operate(request.user, batch.cycle)
    form = InstructionFilterForm(request.GET or None)
    rows = Instruction.objects.filter(batch=batch).select_related("line").order_by("id")
    state = form.cleaned_data["state"] if form.is_valid() else ""
    if state:
        rows = rows.filter(state=state)
    page = paginate(request, rows)
    instructions = list(page.object_list)
    for i in instructions:
        i.reason_shown = queries.instruction_reason(i)
    context = {
        "cycle": batch.cycle,
        "form": form,
        "page": page,
        "instructions": instructions,
        "status_form": StatusFileForm(),
        "active": "transfers",
        **batch_view(batch, operate=operate),
    }
    return render(request, "disbursement/batch.html", context)


# --- the exceptions ------------------------------------------------------------------------------------------


@require_GET
@login_required
def exception_list(request):
    if not queries.may_see_transfers(request.user):
        raise PermissionDenied
    form = ExceptionFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {"state": "", "kind": ""}
    qs = queries.filter_exceptions(queries.exceptions_for(request.user), state=data["state"], kind=data["kind"])
    page = paginate(request, queries.worklist_order(qs))
    rows = list(page.object_list)
    for exc in rows:
        exc.reason_shown = queries.exception_reason(exc)
        exc.amount_shown = queries.exception_amount(exc)
    return render(
        request,
        "disbursement/exceptions.html",
        {"form": form, "page": page, "exceptions": rows, "active": "transfers"},
    )


def _exception_actions(user, exc: TransferException) -> dict:
    resolvable = exc.state != ExceptionState.RESOLVED and queries.may_resolve(user, exc)
    out = {
        "may_fix": resolvable and exc.kind == ExceptionKind.REJECTED and exc.state == ExceptionState.OPEN,
        "may_settle_hold": resolvable and exc.kind == ExceptionKind.HELD,
        "may_settle_overpayment": resolvable and exc.kind in (ExceptionKind.LATE_CREDIT, ExceptionKind.AMOUNT_MISMATCH),
        "may_query": exc.kind == ExceptionKind.NO_ANSWER
        and exc.state != ExceptionState.RESOLVED
        and may_operate(user, exc.batch.cycle),
        "accounts": [],
    }
    beneficiary_id = queries.beneficiary_id_of(exc)
    if out["may_fix"] and beneficiary_id is not None:
        out["accounts"] = list(
            ReceivingAccount.objects.filter(beneficiary_id=beneficiary_id, status=AccountStatus.ACTIVE).select_related(
                "institution"
            )
        )
    return out


@require_GET
@login_required
def exception_detail(request, exc_id: int):
    exc = _exception(request, exc_id)
    context = {
        "exc": exc,
        "reason": queries.exception_reason(exc),
        "amount": queries.exception_amount(exc),
        "answered": (exc.detail or {}).get("answered"),
        "cycle": exc.batch.cycle,
        "note_form": NoteForm(),
        "awaiting_fix": exc.state == ExceptionState.IN_HAND and exc.fix_id is not None,
        "active": "transfers",
        **_exception_actions(request.user, exc),
    }
    return render(request, "disbursement/exception.html", context)


def _resolver(request, exc: TransferException) -> None:
    if not queries.may_resolve(request.user, exc):
        raise PermissionDenied


def _to_exception(exc: TransferException):
    return redirect("payroll:transfer_exception", exc_id=exc.pk)


@require_POST
@login_required
def exception_fix(request, exc_id: int):
    exc = _exception(request, exc_id)
    _resolver(request, exc)
    form = FixForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do and give the reason."))
        return _to_exception(exc)
    cd = form.cleaned_data
    account = None
    if cd["kind"] == FixKind.RESEND:
        account = ReceivingAccount.objects.filter(
            pk=cd["account"] or 0, beneficiary_id=queries.beneficiary_id_of(exc) or 0
        ).first()
        if account is None:
            messages.error(request, _("Choose the corrected account to send the money to."))
            return _to_exception(exc)
    try:
        resolution.ask_fix(actor=request.user, exception=exc, kind=cd["kind"], account=account, reason=cd["reason"])
    except ERRORS as exc_:
        _fail(request, exc_)
    else:
        messages.success(
            request,
            _("The fix awaits a second person's approval on the payment cycle's page."),
        )
    return _to_exception(exc)


def _decision(request) -> tuple[str, str]:
    return request.POST.get("decision", ""), (request.POST.get("note") or "").strip()


@require_POST
@login_required
def exception_hold(request, exc_id: int):
    exc = _exception(request, exc_id)
    _resolver(request, exc)
    decision, note = _decision(request)
    if decision not in ("keep", "release"):
        messages.error(request, _("Choose what to do with the held transfer."))
        return _to_exception(exc)
    try:
        resolution.settle_hold(actor=request.user, exception=exc, release=decision == "release", note=note)
    except ERRORS as exc_:
        _fail(request, exc_)
    else:
        if decision == "release":
            messages.success(request, _("The transfer is released: it is sent with the month's batch."))
        else:
            messages.success(request, _("The transfer is not paid: the stop stands."))
    return _to_exception(exc)


@require_POST
@login_required
def exception_overpayment(request, exc_id: int):
    exc = _exception(request, exc_id)
    _resolver(request, exc)
    decision, note = _decision(request)
    if decision not in ("recover", "noted"):
        messages.error(request, _("Choose what to do with the amount paid."))
        return _to_exception(exc)
    try:
        resolution.settle_overpayment(actor=request.user, exception=exc, recover=decision == "recover", note=note)
    except ERRORS as exc_:
        _fail(request, exc_)
    else:
        if decision == "recover":
            messages.success(request, _("The amount is recorded as an overpayment to recover from the payee."))
        else:
            messages.success(request, _("The check with the payment provider is recorded."))
    return _to_exception(exc)


@require_POST
@login_required
def exception_query(request, exc_id: int):
    exc = _exception(request, exc_id)
    _operate(request, exc.batch.cycle)
    known = _last_job_id()
    try:
        result = sending.query_status(actor=request.user, batch=exc.batch)
    except ERRORS as exc_:
        _fail(request, exc_)
    else:
        (messages.success if result.job is not None else messages.warning)(request, result.message)
        if result.job is not None:
            _job_message(request, result.job, known)
    return _to_exception(exc)


# --- the sandbox bank -------------------------------------------------------------------------------------------


def _sandbox_user(request) -> None:
    if not sandbox.enabled():
        raise Http404
    if not (access.has_cap(request.user, Cap.PAYMENTS_PROVIDE) or access.has_cap(request.user, Cap.PAYROLL_PREPARE)):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@login_required
def sandbox_bank(request):
    """Answer a pain.001 the way the provider's bank would (a pain.002 to download), or answer a
    status query for a message the sandbox bank received."""
    _sandbox_user(request)
    upload_form, query_form = SandboxUploadForm(), SandboxQueryForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "status":
            query_form = SandboxQueryForm(request.POST)
            if query_form.is_valid():
                message_id = query_form.cleaned_data["message_id"].strip()
                answer = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
                if sandbox.status_report(message_id, answer):
                    answer.seek(0)
                    return FileResponse(
                        answer,
                        as_attachment=True,
                        filename=f"tra-loi-trang-thai-{_safe(message_id)}.xml",
                        content_type="application/xml",
                    )
                answer.close()
                messages.error(
                    request, _("The sandbox bank never received a batch with message id %(id)s.") % {"id": message_id}
                )
        else:
            upload_form = SandboxUploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                response = _sandbox_answer(request, upload_form.cleaned_data["file"])
                if response is not None:
                    return response
    context = {"upload_form": upload_form, "query_form": query_form, "active": "transfers"}
    return render(request, "disbursement/sandbox_bank.html", context)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:40]


def _sandbox_answer(request, upload):
    with tempfile.NamedTemporaryFile(suffix=".xml") as received:
        for chunk in upload.chunks():
            received.write(chunk)
        received.flush()
        answer = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        try:
            sandbox.receive(Path(received.name), answer)
        except ERRORS as exc:
            answer.close()
            messages.error(request, _("The sandbox bank refused the file: %(reason)s") % {"reason": str(exc)})
            return None
    answer.seek(0)
    name = Path(upload.name or "lenh").stem
    return FileResponse(
        answer, as_attachment=True, filename=f"tra-loi-{_safe(name)}.xml", content_type="application/xml"
    )
