"""Retention of uploaded registry import files.

An uploaded beneficiary list holds personal data (names, CCCDs, phones) and is needed only
while its import is checked, confirmed and looked into afterwards. `purge_uploads` deletes the
files of import jobs uploaded more than `settings.ANSINH_IMPORT_RETENTION_DAYS` days ago; the job
row, its counts and its row report summary (errors, warnings) stay, with the file field cleared
and one audit event per file (`registry.import.file_purged`).

This touches registry import uploads (`ImportJob.file`) and nothing else: accounting records —
payrolls, provider files, settlements, once they exist — are kept at least 10 years and have
their own rules (docs/retention.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.services import record

from .import_jobs import cancel_import
from .models import ImportJob, ImportStatus

# Jobs still waiting for the officer are cancelled before their file goes; jobs being checked
# or written by the worker are left for a later run.
WAITING = (ImportStatus.UPLOADED, ImportStatus.VALIDATED)
BUSY = (ImportStatus.VALIDATING, ImportStatus.IMPORTING)
CHUNK = 500


@dataclass
class PurgeResult:
    cutoff: str
    purged: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    skipped_busy: list[int] = field(default_factory=list)


def expired_jobs(*, days: int | None = None):
    """Jobs uploaded before the retention cutoff that still hold a file, oldest first."""
    days = settings.ANSINH_IMPORT_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    return ImportJob.objects.filter(created_at__lt=cutoff).exclude(file="").order_by("created_at", "id"), cutoff


def purge_uploads(*, actor=None, days: int | None = None, dry_run: bool = False) -> PurgeResult:
    """Delete the stored files of expired import jobs (see the module docstring). Safe to re-run:
    a purged job has no file left and is not selected again; a file already gone from the disk
    is simply cleared from its job."""
    days = settings.ANSINH_IMPORT_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValidationError(_("The retention period is at least one day."), code="days")
    jobs, cutoff = expired_jobs(days=days)
    result = PurgeResult(cutoff=cutoff.isoformat())
    last_id = 0
    while True:
        # keyset pagination over ids, in bounded memory
        batch = list(jobs.filter(id__gt=last_id).order_by("id").values_list("id", "status")[:CHUNK])
        if not batch:
            break
        last_id = batch[-1][0]
        for job_id, status in batch:
            if status in BUSY:
                result.skipped_busy.append(job_id)
                continue
            if dry_run:
                if status in WAITING:
                    result.cancelled.append(job_id)
                result.purged.append(job_id)
                continue
            outcome = _purge_one(actor=actor, job_id=job_id, days=days)
            if outcome == "cancelled":
                result.cancelled.append(job_id)
            if outcome in ("purged", "cancelled"):
                result.purged.append(job_id)
    return result


@transaction.atomic
def _purge_one(*, actor, job_id: int, days: int) -> str:
    job = ImportJob.objects.select_for_update().select_related("commune").get(pk=job_id)
    if not job.file:
        return "gone"
    if job.status in BUSY:
        return "busy"
    outcome = "purged"
    if job.status in WAITING:
        cancel_import(actor=actor, job=job, note="retention")
        outcome = "cancelled"
    name = job.file.name
    # The file goes first: if the transaction then fails, the next run finds the field still
    # set and the file already gone, and clears the field.
    job.file.storage.delete(name)
    ImportJob.objects.filter(pk=job.pk).update(file="")
    record(
        actor=actor,
        action="registry.import.file_purged",
        obj=job,
        area=job.commune,
        before={"file": job.original_name, "sha256": job.sha256},
        after={"file": "", "retention_days": days},
    )
    return outcome
