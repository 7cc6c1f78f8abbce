"""Retention of the monitoring dashboard's export files.

An export (`ExportJob`, ansinh.reports.exports) is a list of people — names, birth dates, CCCDs
— written as XLSX into `exports.export_dir()` for the one user who asked; it is needed for a
few days, to be downloaded. `purge_exports` deletes the files of finished exports (done or
failed) asked for more than `settings.ANSINH_EXPORT_RETENTION_DAYS` days ago; the job row stays
(its list, area, month, rows, and the audit events of the request and of the export), with
`file_name` cleared, and one audit event per deleted file (`monitoring.export.purged`). The
export page of a purged job says the file was deleted and the list can be exported again.

Modelled on the registry's `purge_uploads` (ansinh/registry/retention.py, docs/retention.md):
keyset chunks, one transaction per job, idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.services import record

from .exports import export_dir
from .models import ExportJob, ExportStatus

FINISHED = (ExportStatus.DONE, ExportStatus.FAILED)
BUSY = (ExportStatus.QUEUED, ExportStatus.RUNNING)
CHUNK = 500


@dataclass
class PurgeResult:
    cutoff: str
    purged: list[int] = field(default_factory=list)
    skipped_busy: list[int] = field(default_factory=list)


def retention_days(days: int | None = None) -> int:
    days = settings.ANSINH_EXPORT_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValidationError(_("The retention period is at least one day."), code="days")
    return days


def expired_jobs(*, days: int | None = None):
    """Exports asked for before the retention cutoff that still hold a file, oldest first."""
    days = retention_days(days)
    cutoff = timezone.now() - timedelta(days=days)
    return ExportJob.objects.filter(created_at__lt=cutoff).exclude(file_name="").order_by("created_at", "id"), cutoff


def purge_exports(*, actor=None, days: int | None = None, dry_run: bool = False) -> PurgeResult:
    """Delete the files of expired finished exports (see the module docstring). Safe to re-run:
    a purged job has no file name left and is not selected again; a file already gone from the
    disk is simply cleared from its job. Queued or running exports are left for a later run."""
    days = retention_days(days)
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
            if status not in FINISHED:
                result.skipped_busy.append(job_id)
                continue
            if dry_run:
                result.purged.append(job_id)
                continue
            if _purge_one(actor=actor, job_id=job_id, days=days):
                result.purged.append(job_id)
    return result


@transaction.atomic
def _purge_one(*, actor, job_id: int, days: int) -> bool:
    job = ExportJob.objects.select_for_update().select_related("area").get(pk=job_id)
    if not job.file_name or job.status not in FINISHED:
        return False
    # The file goes first: if the transaction then fails, the next run finds the name still
    # set and the file already gone, and clears the name.
    (export_dir() / job.file_name).unlink(missing_ok=True)
    ExportJob.objects.filter(pk=job.pk).update(file_name="")
    record(
        actor=actor,
        action="monitoring.export.purged",
        obj=job,
        area=job.area,
        before={"file": job.download_name or job.file_name},
        after={
            "list": job.kind,
            "month": job.month.strftime("%Y-%m"),
            "file": "",
            "retention_days": days,
        },
    )
    return True


def was_purged(job: ExportJob) -> bool:
    """A finished export whose file was deleted at the end of its retention period (a done
    export always has a file name until then)."""
    return job.status == ExportStatus.DONE and not job.file_name
