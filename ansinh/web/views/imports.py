"""Importing beneficiaries from XLSX/CSV: the upload page, the job page (progress while the
file is checked or written, then the row report), confirmation and cancellation.

Nothing is written to the registry before the officer confirms (ansinh.registry.import_jobs).
A job is visible where the user may view the registry; uploading, confirming, cancelling and
downloading the row report (it holds the uploaded personal data) need the import capability
in the job's commune."""

from __future__ import annotations

from pathlib import PurePath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.registry import exports, import_jobs
from ansinh.registry.models import ImportJob, ImportStatus

from ..forms import add_service_errors
from ..forms_imports import ImportUploadForm
from ..shortcuts import cap_required, is_htmx, paginate

JOBS_PER_PAGE = 20
ERRORS_PER_PAGE = 100
WARNINGS_SHOWN = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# While a job is in one of these states the job page polls for its progress.
RUNNING = (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.IMPORTING)
# The stored file has been read successfully: the row report can be built from it.
CHECKED = (ImportStatus.VALIDATED, ImportStatus.IMPORTING, ImportStatus.DONE, ImportStatus.CANCELLED)


def _jobs_for(user):
    """Import jobs in the user's areas (where they may view the registry)."""
    qs = ImportJob.objects.select_related("commune", "commune__parent", "uploaded_by")
    return access.scope(qs, user, Cap.REGISTRY_VIEW, path_field="area_path")


def _communes_for_import(user):
    return access.areas_for(user, Cap.REGISTRY_IMPORT).filter(level=Level.COMMUNE)


def _job_or_404(user, pk: int) -> ImportJob:
    return get_object_or_404(_jobs_for(user), pk=pk)


def _require_import(user, job: ImportJob) -> None:
    if not access.can_in_area(user, Cap.REGISTRY_IMPORT, job.commune):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@cap_required(Cap.REGISTRY_IMPORT)
def import_index(request):
    """Download the template, upload a file for a commune, and the recent imports."""
    user = request.user
    communes = _communes_for_import(user)
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, communes=communes)
        if form.is_valid():
            try:
                job = import_jobs.start_import(
                    actor=user, commune=form.cleaned_data["commune"], upload=form.cleaned_data["file"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if job.status != ImportStatus.FAILED:
                    return redirect("imports:detail", pk=job.pk)
                # The file as a whole could not be read (no header row, missing columns…).
                form.add_error("file", job.message)
        status = 422
    else:
        form = ImportUploadForm(communes=communes)
    context = {
        "form": form,
        "page": paginate(request, _jobs_for(user), JOBS_PER_PAGE),
        "max_mb": import_jobs.MAX_UPLOAD_BYTES // (1024 * 1024),
        "background_kb": import_jobs.BACKGROUND_BYTES // 1024,
    }
    return render(request, "imports/index.html", context, status=status)


@require_GET
@cap_required(Cap.REGISTRY_IMPORT)
def template_download(request):
    response = HttpResponse(exports.import_template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-doi-tuong.xlsx"'
    return response


def _job_context(request, job: ImportJob) -> dict:
    user = request.user
    can_import = access.can_in_area(user, Cap.REGISTRY_IMPORT, job.commune)
    errors = Paginator(job.errors or [], ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    warnings = job.warnings or []
    to_write = job.to_create + job.to_update
    return {
        "job": job,
        "polling": job.status in RUNNING,
        "progress": max(0, min(100, job.progress)),
        "progress_step": max(0, min(100, job.progress)) // 5 * 5,
        "checked": job.status in CHECKED,
        "errors_page": errors,
        "warnings": warnings[:WARNINGS_SHOWN],
        "warnings_hidden": max(0, len(warnings) - WARNINGS_SHOWN),
        "to_write": to_write,
        "can_import": can_import,
        "can_confirm": can_import and job.status == ImportStatus.VALIDATED and to_write > 0,
        "can_cancel": can_import and job.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATED),
        "can_download_report": can_import and job.status in CHECKED and bool(job.file),
        "file_purged": not job.file,
        "registry_url": reverse("registry:list") if job.status == ImportStatus.DONE else None,
    }


@require_GET
@login_required
def job_detail(request, pk: int):
    job = _job_or_404(request.user, pk)
    return render(request, "imports/job.html", _job_context(request, job))


@require_GET
def job_status(request, pk: int):
    """The job section alone: polled by HTMX while the job runs; once it has finished the
    section is rendered without the polling trigger, which stops the polling."""
    if not request.user.is_authenticated:
        # A session that ended while the page was polling: send the whole page to the login
        # form instead of swapping the login form into the job section.
        login_url = redirect_to_login(reverse("imports:detail", args=[pk]))["Location"]
        if not is_htmx(request):
            return redirect(login_url)
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login_url
        return response
    job = _job_or_404(request.user, pk)
    if not is_htmx(request):
        return redirect("imports:detail", pk=job.pk)
    response = render(request, "imports/_job.html", _job_context(request, job))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def job_confirm(request, pk: int):
    job = _job_or_404(request.user, pk)
    _require_import(request.user, job)
    was = job.status
    job = import_jobs.confirm_import(actor=request.user, job=job)
    if was == ImportStatus.VALIDATED:
        if job.status == ImportStatus.DONE:
            messages.success(
                request,
                _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
                % {"created": job.created, "updated": job.updated, "unchanged": job.unchanged},
            )
        elif job.status == ImportStatus.FAILED:
            messages.error(request, job.message)
    return redirect("imports:detail", pk=job.pk)


@require_POST
@login_required
def job_cancel(request, pk: int):
    job = _job_or_404(request.user, pk)
    _require_import(request.user, job)
    was = job.status
    job = import_jobs.cancel_import(actor=request.user, job=job)
    if job.status == ImportStatus.CANCELLED and was != ImportStatus.CANCELLED:
        messages.info(request, _("The import was cancelled; nothing was written."))
    return redirect("imports:detail", pk=job.pk)


@require_GET
@login_required
def job_report(request, pk: int):
    """The uploaded rows as they were, with the error and warning columns (XLSX)."""
    job = _job_or_404(request.user, pk)
    _require_import(request.user, job)
    if job.status not in CHECKED or not job.file:  # no file: deleted after the retention period
        raise Http404
    stem = PurePath(job.original_name).stem or "nhap"
    response = HttpResponse(exports.error_report(job), content_type=XLSX)
    response["Content-Disposition"] = _attachment(f"bao-cao-loi-{job.pk}-{stem}.xlsx")
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
