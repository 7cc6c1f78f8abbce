"""Long exports of the monitoring dashboard, written in the background with a progress bar (the
mechanism of the registry's imports: a job row with its progress, a django-tasks task, a page
that polls the job with HTMX): the list of people behind a figure (beneficiaries without an
account; account holders not paid through it this month; those paid through it) as XLSX.

`start_export` checks the rights, creates the job and enqueues `run_export`; `run_export`
counts the rows, writes them chunk by chunk (progress after each chunk) into a file outside the
media directory, logs the export ("monitoring.exported": the list, the month, the rows — an
export of personal data is recorded, Decree 13/2023) and marks the job done. CCCDs are masked
where the user may not see them; HIV-related categories are never written (no category column
at all); the list is limited to the areas where the user may export the beneficiary list and
to `settings.ANSINH_EXPORT_MAX_ROWS` rows, as the registry's own export is. The files are
deleted `settings.ANSINH_EXPORT_RETENTION_DAYS` days later by `manage.py purge_exports`
(ansinh/reports/retention.py); a failed export leaves no file behind."""

from __future__ import annotations

import logging
import secrets
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.audit.services import record
from ansinh.core.exporter import Sheet, TitleBlock, unit_name, write_workbook
from ansinh.core.masking import mask_number

from . import kpis
from .models import ExportJob, ExportStatus

log = logging.getLogger(__name__)

CHUNK = 500
HEADERS = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số CCCD",
    "Xã, phường",
    "Thôn, ấp, khóm",
    "Tháng bắt đầu hưởng",
]
WIDTHS = [6, 28, 12, 9, 16, 24, 22, 14]


def kind_titles() -> dict[str, str]:
    """The title of each list, as the page and the file name it."""
    return {
        "without_account": _("Beneficiaries without an account"),
        "not_paid_cashless": _("Account holders not paid through their account"),
        "paid_cashless": _("Account holders paid through their account"),
    }


def export_dir() -> Path:
    """Where export files are kept: outside the media directory (they hold personal data and
    are handed only to the user who asked, through the download view)."""
    path = Path(getattr(settings, "ANSINH_EXPORT_DIR", settings.DATA_DIR / "exports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def people_queryset(user, area: Area, kind: str, month: date, cap: str = Cap.REGISTRY_VIEW):
    """The people behind a figure, in `area`, limited to where the user holds `cap`."""
    from ansinh.registry.queries import beneficiaries_for

    qs = beneficiaries_for(user, cap).filter(area_path__startswith=area.path)
    return kpis.people(qs, kind, month)


def start_export(*, actor, area: Area, kind: str, month: date) -> ExportJob:
    """Create the job (logged) and have it written in the background."""
    if kind not in kpis.PEOPLE_KINDS:
        raise ValidationError({"kind": _("Unknown list.")})
    if not access.can_in_area(actor, Cap.REGISTRY_EXPORT, area):
        raise PermissionDenied
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind, area=area, area_path=area.path, month=kpis.month_of(month), requested_by=actor
        )
        record(
            actor=actor,
            action="monitoring.export.requested",
            obj=job,
            area=area,
            after={"list": kind, "month": job.month.strftime("%Y-%m"), "format": "xlsx"},
        )
    from .tasks import run_export_task

    run_export_task.enqueue(job.pk)
    job.refresh_from_db()
    return job


def _rows(user, qs, on_chunk):
    from ansinh.registry.queries import cccd_visible

    show_cccd = cccd_visible(user)
    qs = qs.select_related("commune", "village").order_by("sort_key", "id")
    number = 0
    last = None
    while True:
        page = qs if last is None else qs.filter(sort_key__gte=last[0]).exclude(sort_key=last[0], id__lte=last[1])
        chunk = list(page[:CHUNK])
        for b in chunk:
            number += 1
            yield [
                number,
                b.full_name,
                b.birth_date.strftime("%d/%m/%Y"),
                "Nam" if b.gender == "male" else "Nữ",
                b.cccd if show_cccd(b.area_path) else mask_number(b.cccd),
                b.commune.full_name,
                b.village.full_name if b.village else "",
                b.start_month.strftime("%m/%Y"),
            ]
        on_chunk(number)
        if len(chunk) < CHUNK:
            return
        last = (chunk[-1].sort_key, chunk[-1].pk)


def _finish(job: ExportJob, status: str, **fields) -> None:
    ExportJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)


def run_export(*, job_id: int) -> ExportJob:
    """Write the job's file (the worker, or at once with the immediate task backend)."""
    job = ExportJob.objects.select_related("area", "requested_by").get(pk=job_id)
    if job.status != ExportStatus.QUEUED:
        return job  # already written (a re-run of the task does nothing)
    user = job.requested_by
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, progress=1)
    path: Path | None = None
    try:
        qs = people_queryset(user, job.area, job.kind, job.month, Cap.REGISTRY_EXPORT)
        total = qs.count()
        limit = getattr(settings, "ANSINH_EXPORT_MAX_ROWS", 20000)
        if total > limit:
            message = _("The list has %(rows)s people, more than %(limit)s: open a smaller area.") % {
                "rows": kpis.format_number(total),
                "limit": kpis.format_number(limit),
            }
            _finish(job, ExportStatus.FAILED, message=message, total_rows=total)
            job.refresh_from_db()
            return job
        ExportJob.objects.filter(pk=job.pk).update(total_rows=total)

        def on_chunk(done: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(rows=done, progress=max(1, min(95, done * 95 // max(total, 1))))

        title = kind_titles()[job.kind]
        heading = TitleBlock(
            unit_name(job.area),
            title.upper(),
            [f"{job.area.full_name} · Tháng {job.month:%m/%Y}"],
        ).dated(timezone.localdate())
        name = f"{job.pk}-{secrets.token_hex(8)}.xlsx"
        path = export_dir() / name
        with path.open("wb") as out:
            write_workbook(
                out,
                [
                    Sheet(
                        title=title[:31],
                        headers=HEADERS,
                        rows=_rows(user, qs, on_chunk),
                        widths=WIDTHS,
                        heading=heading,
                    )
                ],
            )
        written = ExportJob.objects.get(pk=job.pk).rows
        with transaction.atomic():
            _finish(
                job,
                ExportStatus.DONE,
                progress=100,
                rows=written,
                file_name=name,
                download_name=f"{job.kind.replace('_', '-')}-{job.month:%Y-%m}-{job.area.pk}.xlsx",
            )
            record(
                actor=user,
                action="monitoring.exported",
                obj=job,
                area=job.area,
                after={"list": job.kind, "month": job.month.strftime("%Y-%m"), "format": "xlsx", "rows": written},
            )
    except Exception as exc:
        log.exception("export %s failed", job.pk)
        if path is not None:
            # a half-written (or never handed over) file of personal data: not kept
            path.unlink(missing_ok=True)
        _finish(
            job,
            ExportStatus.FAILED,
            message=_("The list could not be written. (%(error)s)") % {"error": exc.__class__.__name__},
        )
    job.refresh_from_db()
    return job


def file_path(job: ExportJob) -> Path | None:
    if job.status != ExportStatus.DONE or not job.file_name:
        return None
    path = export_dir() / job.file_name
    return path if path.is_file() else None
