"""The dashboard's export files hold personal data: `purge_exports` deletes those of finished
exports older than ANSINH_EXPORT_RETENTION_DAYS; the job stays, audited, a re-run does nothing,
and the export page (and download) of a purged job says the file was deleted."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from ansinh.audit.models import AuditEvent
from ansinh.reports import exports, retention
from ansinh.reports.models import ExportJob, ExportStatus
from ansinh.web import audit_text

from .conftest import M

pytestmark = pytest.mark.django_db

ACTION = "monitoring.export.purged"


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.ANSINH_EXPORT_DIR = tmp_path / "exports"
    settings.ANSINH_EXPORT_RETENTION_DAYS = 7


@pytest.fixture
def export(tree, month_world, officer_a):
    """export(age_days=…) -> a finished export of A's list, written by the immediate backend,
    dated `age_days` ago."""

    def _export(age_days=0, kind="not_paid_cashless", status=None):
        job = exports.start_export(actor=officer_a, area=tree.a, kind=kind, month=M)
        assert job.status == ExportStatus.DONE and job.file_name
        fields = {"created_at": timezone.now() - timedelta(days=age_days)}
        if status:
            fields["status"] = status
        ExportJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
        return job

    return _export


def path_of(job):
    return exports.export_dir() / job.file_name


def run(*args) -> str:
    out = StringIO()
    with translation.override("vi"):
        call_command("purge_exports", *args, stdout=out)
    return out.getvalue()


def test_old_finished_files_go_recent_and_running_ones_stay(export):
    old = export(age_days=8)
    old_failed = export(age_days=30, status=ExportStatus.FAILED)
    recent = export(age_days=2)
    running = export(age_days=30, status=ExportStatus.RUNNING)  # the worker holds it: not touched
    queued = export(age_days=30, status=ExportStatus.QUEUED)
    files = {job.pk: path_of(job) for job in (old, old_failed, recent, running, queued)}
    stray = exports.export_dir() / "notes.txt"  # not an export's file: never touched
    stray.write_text("x")

    result = retention.purge_exports()

    assert sorted(result.purged) == sorted([old.pk, old_failed.pk])
    assert sorted(result.skipped_busy) == sorted([running.pk, queued.pk])
    for job in (old, old_failed):
        before = (job.status, job.rows, job.download_name)
        job.refresh_from_db()
        assert not files[job.pk].exists() and job.file_name == ""
        assert (job.status, job.rows, job.download_name) == before  # the job row stays
    for job in (recent, running, queued):
        name = job.file_name
        job.refresh_from_db()
        assert files[job.pk].exists() and job.file_name == name
    assert stray.exists()

    # one audit event per deleted file, by the system
    events = AuditEvent.objects.filter(action=ACTION).order_by("id")
    assert [e.object_id for e in events] == [str(old.pk), str(old_failed.pk)]
    event = events[0]
    assert event.actor is None and event.area_path == old.area.path
    assert event.before["file"] == old.download_name
    assert event.after == {"list": "not_paid_cashless", "month": "2026-11", "file": "", "retention_days": 7}

    # idempotent: nothing left to delete, no new event
    again = retention.purge_exports()
    assert again.purged == [] and AuditEvent.objects.filter(action=ACTION).count() == 2


def test_a_dry_run_deletes_nothing(export):
    old = export(age_days=10)
    result = retention.purge_exports(dry_run=True)
    assert result.purged == [old.pk]
    old_name = old.file_name
    old.refresh_from_db()
    assert old.file_name == old_name and path_of(old).exists()
    assert not AuditEvent.objects.filter(action=ACTION).exists()
    assert "Chạy thử: sẽ xóa 1 tệp xuất danh sách" in run("--dry-run")
    assert path_of(old).exists()


def test_a_file_already_missing_is_just_cleared(export):
    old = export(age_days=10)
    path_of(old).unlink()
    assert retention.purge_exports().purged == [old.pk]
    old.refresh_from_db()
    assert old.file_name == "" and AuditEvent.objects.filter(action=ACTION).count() == 1


def test_days_override_and_its_minimum(export):
    job = export(age_days=3)
    assert retention.purge_exports().purged == []  # 7 days by default
    assert retention.purge_exports(days=2).purged == [job.pk]
    assert AuditEvent.objects.get(action=ACTION).after["retention_days"] == 2
    with pytest.raises(ValidationError), translation.override("vi"):
        retention.purge_exports(days=0)
    with pytest.raises(CommandError, match="Thời hạn lưu giữ ít nhất là một ngày"):
        run("--days", "0")


def test_the_command_says_what_it_did_in_vietnamese(export):
    export(age_days=8)
    export(age_days=1)
    export(age_days=9, status=ExportStatus.RUNNING)
    out = run()
    assert "Đã xóa 1 tệp xuất danh sách" in out and "bỏ qua 1 lượt đang xử lý" in out
    assert "Đã xóa 0 tệp" in run()


def test_the_page_and_download_of_a_purged_export_say_it_was_deleted(export, client_for, officer_a, officer_b):
    job = export(age_days=8)
    run()
    client = client_for(officer_a)
    download = client.get(f"/monitoring/exports/{job.pk}/download/", HTTP_ACCEPT_LANGUAGE="vi")
    assert download.status_code == 410
    body = download.content.decode()
    assert 'data-state="purged"' in body and 'data-action="download"' not in body
    assert "Tệp của danh sách này đã được xóa 7 ngày sau khi xuất" in body
    assert "Mở danh sách để xuất lại" in body
    assert f"/monitoring/{job.area_id}/people/?kind=not_paid_cashless&amp;month=2026-11" in body
    page = client.get(f"/monitoring/exports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200 and 'data-state="purged"' in page.content.decode()
    # still someone else's job: 404, not the message
    assert client_for(officer_b).get(f"/monitoring/exports/{job.pk}/download/").status_code == 404


def test_the_purge_reads_as_a_vietnamese_sentence_in_the_log(export, officer_a):
    export(age_days=8)
    retention.purge_exports()
    event = AuditEvent.objects.select_related("actor").get(action=ACTION)
    with translation.override("vi"):
        (entry,) = audit_text.render([event], officer_a)
        assert "sau 7 ngày (hết thời hạn lưu giữ)" in entry.text and "tệp Excel" in entry.text
        assert "hết thời hạn lưu giữ" in str(entry.title)


def test_a_failed_export_leaves_no_file(tree, month_world, officer_a, monkeypatch):
    real_record = exports.record

    def failing_record(**kwargs):
        if kwargs["action"] == "monitoring.exported":
            raise RuntimeError("audit down")
        return real_record(**kwargs)

    monkeypatch.setattr(exports, "record", failing_record)
    job = exports.start_export(actor=officer_a, area=tree.a, kind="not_paid_cashless", month=M)
    assert job.status == ExportStatus.FAILED and job.file_name == ""
    assert list(exports.export_dir().iterdir()) == []
