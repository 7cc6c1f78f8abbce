"""The life of an import: upload → check (in the background for big files) → the officer reads
the row report → confirm → write (in the background for big files). Every step is safe to
re-run: a job that is already checked or done is left as it is."""

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


def _is_large(job: ImportJob) -> bool:
    return job.file.size > BACKGROUND_BYTES


def start_import(*, actor, commune: Area, upload: UploadedFile) -> ImportJob:
    """Store the file and check it (now if small, else in the background)."""
    if commune.level != Level.COMMUNE:
        raise ValidationError({"commune": _("Choose a commune.")})
    name = upload.name or "upload"
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError({"file": _("Upload an Excel file (.xlsx) or a CSV file.")})
    if upload.size > MAX_UPLOAD_BYTES:
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

        check_import_task.enqueue(job.pk)
    else:
        check_import(job_id=job.pk)
    job.refresh_from_db()
    return job


def _plan(job: ImportJob, progress=None) -> Plan:
    return check_file(job.file.path, commune=job.commune, name=job.original_name, progress=progress)


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATING).update(
        status=ImportStatus.FAILED, message=message, finished_at=timezone.now(), progress=100
    )
    job.refresh_from_db()


def check_import(*, job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("commune").get(pk=job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING, progress=0)

    def progress(done: int, _total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(progress=min(95, 5 + done // 1000))

    try:
        plan = _plan(job, progress)
    except FileError as exc:
        _fail(job, str(exc))
        return job
    except Exception as exc:
        # Never leave a job "checking" for ever (its page polls until it finishes).
        log.exception("check of import %s failed", job.pk)
        _fail(job, _("The file could not be checked. (%(error)s)") % {"error": exc.__class__.__name__})
        return job
    summary = plan.summary()
    # Only a job still being checked takes the result: one cancelled meanwhile stays cancelled.
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATING).update(
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
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.VALIDATED:
            return job
        job.status = ImportStatus.IMPORTING
        job.progress = 0
        job.save(update_fields=["status", "progress"])
        record(
            actor=actor,
            action="registry.import.confirmed",
            obj=job,
            area=job.commune,
            after={"to_create": job.to_create, "to_update": job.to_update},
        )
    if _is_large(job):
        from .tasks import apply_import_task

        apply_import_task.enqueue(job.pk, actor.pk if getattr(actor, "pk", None) else None)
    else:
        apply_import(job_id=job.pk, actor=actor)
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
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.DONE,
                progress=100,
                created=result["created"],
                updated=result["updated"],
                unchanged=result["unchanged"],
                finished_at=timezone.now(),
            )
            record(actor=actor, action="registry.import.done", obj=job, area=job.commune, after=result)
    except Exception as exc:
        log.exception("import %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            message=_("The import failed; nothing was written. (%(error)s)") % {"error": exc.__class__.__name__},
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def cancel_import(*, actor, job: ImportJob) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.VALIDATED):
            job.status = ImportStatus.CANCELLED
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at"])
            record(actor=actor, action="registry.import.cancelled", obj=job, area=job.commune)
    return job
