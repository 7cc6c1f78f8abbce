"""The life of an import: upload → check (in the background for big files) → the officer reads
the row report → confirm → write (in the background for big files). Every step is safe to
re-run: a job that is already checked or done is left as it is.

Every status change goes through `change_status`, along `ImportJob.STATUS_TRANSITIONS`, and is
audited (`registry.import.<step>`, with the counts)."""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level
from ansinh.audit.services import record

from .importing import FileError, Plan, apply_plan, check_file
from .models import ImportJob, ImportStatus

log = logging.getLogger(__name__)

# Files larger than this are checked and written by the background worker.
BACKGROUND_BYTES = 256 * 1024
MAX_UPLOAD_BYTES = 40 * 1024 * 1024
ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".csv")

# The audit action of each status a job moves to.
STATUS_ACTIONS: dict[str, str] = {
    ImportStatus.VALIDATING: "registry.import.checking",
    ImportStatus.VALIDATED: "registry.import.checked",
    ImportStatus.IMPORTING: "registry.import.confirmed",
    ImportStatus.DONE: "registry.import.done",
    ImportStatus.FAILED: "registry.import.failed",
    ImportStatus.CANCELLED: "registry.import.cancelled",
}
FINAL = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED)
COUNTS = ("total_rows", "error_rows", "to_create", "to_update", "unchanged", "created", "updated")


def _is_large(job: ImportJob) -> bool:
    return job.file.size > BACKGROUND_BYTES


def _actor_id(actor) -> int | None:
    return actor.pk if getattr(actor, "pk", None) else None


@transaction.atomic
def change_status(*, actor, job_id: int, status: str, note: str = "", **fields) -> ImportJob | None:
    """Move a job to `status` with `fields` (counts, message, progress) if
    `ImportJob.STATUS_TRANSITIONS` allows it from the status it has now, under a row lock, and
    record the transition with the job's counts. Returns the job, or None when the move is not
    allowed (e.g. the officer cancelled the job while it was being checked): nothing changes then."""
    job = ImportJob.objects.select_for_update().select_related("commune").get(pk=job_id)
    if not job.can_become(status):
        return None
    before = job.status
    job.status = status
    for name, value in fields.items():
        setattr(job, name, value)
    if status in FINAL:
        job.finished_at = timezone.now()
        if status != ImportStatus.CANCELLED:
            job.progress = 100
    job.save(update_fields=sorted({"status", "finished_at", "progress", *fields}))
    after = {"status": status, **{name: getattr(job, name) for name in COUNTS}}
    if job.message:
        after["message"] = job.message
    record(
        actor=actor,
        action=STATUS_ACTIONS[status],
        obj=job,
        area=job.commune,
        before={"status": before},
        after=after,
        note=note,
    )
    return job


def start_import(*, actor, commune: Area, upload: UploadedFile) -> ImportJob:
    """Store the file and check it (now if small, else in the background)."""
    if commune.level != Level.COMMUNE:
        raise ValidationError({"commune": _("Choose a commune.")})
    name = upload.name or "upload"
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError({"file": _("Upload an Excel file (.xlsx) or a CSV file.")})
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 40 MB; split it.")})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        job = ImportJob.objects.create(
            commune=commune,
            area_path=commune.path,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            file=upload,
            original_name=name[:255],
            sha256=digest.hexdigest(),
        )
        record(
            actor=actor,
            action="registry.import.uploaded",
            obj=job,
            area=commune,
            after={"file": job.original_name, "sha256": job.sha256},
        )
    if _is_large(job):
        from .tasks import check_import_task

        check_import_task.enqueue(job.pk, _actor_id(actor))
    else:
        check_import(job_id=job.pk, actor=actor)
    job.refresh_from_db()
    return job


def _plan(job: ImportJob, progress=None) -> Plan:
    return check_file(job.file.path, commune=job.commune, name=job.original_name, progress=progress)


def _fail(job: ImportJob, message: str, actor) -> None:
    change_status(actor=actor, job_id=job.pk, status=ImportStatus.FAILED, message=message)
    job.refresh_from_db()


def check_import(*, job_id: int, actor=None) -> ImportJob:
    """Check the stored file and keep its row report on the job. `actor` is who uploaded it
    (None when the worker cannot tell)."""
    job = ImportJob.objects.select_related("commune").get(pk=job_id)
    if job.status == ImportStatus.UPLOADED:
        if change_status(actor=actor, job_id=job.pk, status=ImportStatus.VALIDATING, progress=0) is None:
            job.refresh_from_db()
            return job  # cancelled meanwhile
    elif job.status != ImportStatus.VALIDATING:  # a re-run of an interrupted check goes on
        return job

    def progress(done: int, _total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(progress=min(95, 5 + done // 1000))

    try:
        plan = _plan(job, progress)
    except FileError as exc:
        _fail(job, str(exc), actor)
        return job
    except Exception as exc:
        # Never leave a job "checking" for ever (its page polls until it finishes).
        log.exception("check of import %s failed", job.pk)
        _fail(job, _("The file could not be checked. (%(error)s)") % {"error": exc.__class__.__name__}, actor)
        return job
    summary = plan.summary()
    # Only a job still being checked takes the result: one cancelled meanwhile stays cancelled.
    change_status(
        actor=actor,
        job_id=job.pk,
        status=ImportStatus.VALIDATED,
        progress=100,
        total_rows=plan.rows,
        error_rows=plan.error_rows,
        to_create=summary["created"],
        to_update=summary["updated"],
        unchanged=summary["unchanged"],
        errors=summary["errors"],
        warnings=summary["warnings"],
        message="",
    )
    job.refresh_from_db()
    return job


def confirm_import(*, actor, job: ImportJob) -> ImportJob:
    """The officer confirms: write the valid rows (now if small, else in the background)."""
    moved = change_status(actor=actor, job_id=job.pk, status=ImportStatus.IMPORTING, progress=0)
    if moved is None:  # not waiting for confirmation (already confirmed, cancelled, …)
        job.refresh_from_db()
        return job
    if _is_large(moved):
        from .tasks import apply_import_task

        apply_import_task.enqueue(moved.pk, _actor_id(actor))
    else:
        apply_import(job_id=moved.pk, actor=actor)
    job.refresh_from_db()
    return job


def apply_import(*, job_id: int, actor) -> ImportJob:
    """Re-check the stored file (the registry may have changed since) and write its valid rows
    in one transaction."""
    job = ImportJob.objects.select_related("commune").get(pk=job_id)
    if job.status != ImportStatus.IMPORTING:
        return job
    try:
        plan = _plan(job)
        with transaction.atomic():
            result = apply_plan(
                actor=actor,
                plan=plan,
                commune=job.commune,
                note=_("import %(name)s") % {"name": job.original_name},
            )
            change_status(
                actor=actor,
                job_id=job.pk,
                status=ImportStatus.DONE,
                created=result["created"],
                updated=result["updated"],
                unchanged=result["unchanged"],
            )
    except Exception as exc:
        log.exception("import %s failed", job.pk)
        change_status(
            actor=actor,
            job_id=job.pk,
            status=ImportStatus.FAILED,
            message=_("The import failed; nothing was written. (%(error)s)") % {"error": exc.__class__.__name__},
        )
    job.refresh_from_db()
    return job


def cancel_import(*, actor, job: ImportJob, note: str = "") -> ImportJob:
    """Cancel a job not yet confirmed; any other is left as it is."""
    change_status(actor=actor, job_id=job.pk, status=ImportStatus.CANCELLED, note=note)
    job.refresh_from_db()
    return job
