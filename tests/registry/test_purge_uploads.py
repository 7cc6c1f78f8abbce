"""Uploaded import files hold personal data: `purge_uploads` deletes those older than
ANSINH_IMPORT_RETENTION_DAYS; the job and its summary stay, audited, and a re-run does nothing."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from ansinh.audit.models import AuditEvent
from ansinh.registry import import_jobs
from ansinh.registry.models import ImportJob, ImportStatus
from tests.registry.test_import import good_rows, xlsx


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ANSINH_IMPORT_RETENTION_DAYS = 90
    return settings.MEDIA_ROOT


@pytest.fixture
def start(tree, policy, officer_a, tmp_path, media):
    def _start(name="ds.xlsx", age_days=0, confirm=False):
        path = xlsx(good_rows(), tmp_path / name)
        job = import_jobs.start_import(
            actor=officer_a, commune=tree.a, upload=SimpleUploadedFile(name, path.read_bytes())
        )
        if confirm:
            job = import_jobs.confirm_import(actor=officer_a, job=job)
        ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=age_days))
        job.refresh_from_db()
        return job

    return _start


def run(*args) -> str:
    out = StringIO()
    call_command("purge_uploads", *args, stdout=out)
    return out.getvalue()


def test_old_files_are_deleted_and_the_job_summary_stays(start, media):
    old = start("old.xlsx", age_days=91, confirm=True)
    recent = start("recent.xlsx", age_days=10, confirm=True)
    stray = media / "other" / "keep.txt"  # not an import upload: never touched
    stray.parent.mkdir(parents=True)
    stray.write_text("x")
    old_file, recent_file = Path(old.file.path), Path(recent.file.path)
    summary = (old.status, old.total_rows, old.to_create, old.created, old.errors, old.warnings)

    assert "1" in run("--dry-run")
    assert old_file.exists()
    assert not AuditEvent.objects.filter(action="registry.import.file_purged").exists()

    run()
    old.refresh_from_db()
    assert not old_file.exists() and old.file.name == ""
    assert (old.status, old.total_rows, old.to_create, old.created, old.errors, old.warnings) == summary
    assert recent_file.exists() and stray.exists()
    event = AuditEvent.objects.get(action="registry.import.file_purged")
    assert event.object_id == str(old.pk) and event.actor is None
    assert event.before["file"] == "old.xlsx" and event.after["retention_days"] == 90
    assert event.area_path == old.area_path

    run()  # idempotent
    assert AuditEvent.objects.filter(action="registry.import.file_purged").count() == 1


def test_an_old_import_still_awaiting_confirmation_is_cancelled_first(start):
    waiting = start("waiting.xlsx", age_days=120)
    assert waiting.status == ImportStatus.VALIDATED
    run()
    waiting.refresh_from_db()
    assert waiting.status == ImportStatus.CANCELLED and not waiting.file
    actions = list(
        AuditEvent.objects.filter(object_id=str(waiting.pk), object_type="registry.importjob")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["registry.import.cancelled", "registry.import.file_purged"]


def test_an_import_in_progress_is_left_alone(start):
    busy = start("busy.xlsx", age_days=120)
    ImportJob.objects.filter(pk=busy.pk).update(status=ImportStatus.IMPORTING)
    run()
    busy.refresh_from_db()
    assert busy.file and Path(busy.file.path).exists()


def test_the_job_page_of_a_purged_import_offers_no_report(start, client_for, officer_a):
    job = start(age_days=100, confirm=True)
    run()
    client = client_for(officer_a)
    body = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'data-state="file-purged"' in body and 'data-action="report"' not in body
    assert client.get(reverse("imports:report", args=[job.pk])).status_code == 404


def test_the_retention_period_is_at_least_a_day(media, db):
    with pytest.raises(CommandError):
        run("--days", "0")
