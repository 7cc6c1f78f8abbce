"""The staff import pages: template, upload, row report, confirmation, re-import, scoping,
and the progress partial of background jobs."""

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from ansinh.audit.models import AuditEvent
from ansinh.registry import import_jobs
from ansinh.registry.columns import COLUMNS, ERROR_HEADER, WARNING_HEADER
from ansinh.registry.models import Beneficiary, ImportJob, ImportStatus
from tests.factories import cccd_for, import_xlsx
from tests.factories import import_row as row

HEADERS = [c.header for c in COLUMNS]
KEYS = [c.key for c in COLUMNS]
HX = {"HTTP_HX_REQUEST": "true"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POLL = 'hx-trigger="every 1s"'


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def good_rows():
    return [
        row(
            full_name="Nguyễn Thị Ánh",
            birth_date="03/02/1941",
            gender="Nữ",
            cccd=cccd_for(date(1941, 2, 3), "female", "200001"),
            phone="0912 345 678",
            village="Khóm Châu Long 1",
            category="D20.5.5.c",
            decision_number="1/QĐ-UBND",
            decision_date="10/01/2024",
        ),
        row(
            full_name="Trần Văn Bình",
            birth_date="07/06/1950",
            gender="Nam",
            cccd=cccd_for(date(1950, 6, 7), "male", "200002"),
            phone="0386123456",
            category="D20.5.6",
            condition="severe:adult",
            decision_number="2/QĐ-UBND",
            decision_date="11/01/2024",
        ),
    ]


def bad_rows():
    return [
        # the CCCD says born 1960, the date of birth says 1941 → row 4
        row(
            full_name="Phạm Văn Cường",
            birth_date="03/02/1941",
            gender="Nam",
            cccd="089060123456",
            category="D20.5.5.c",
            decision_number="3/QĐ",
            decision_date="10/01/2024",
        ),
        # bad phone, unknown village, unknown category → row 5
        row(
            full_name="Võ Thị Dung",
            birth_date="31/12/1939",
            gender="Nữ",
            phone="12345",
            village="Ấp Không Có",
            category="X.9",
            decision_number="4/QĐ",
            decision_date="10/01/2024",
        ),
    ]


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    return import_xlsx(rows, headers=headers)


def upload(client, content: bytes, *, commune, name="danh-sach.xlsx"):
    return client.post(reverse("imports:index"), {"commune": commune.pk, "file": SimpleUploadedFile(name, content)})


def detail(job):
    return reverse("imports:detail", args=[job.pk])


def beneficiary_events():
    return AuditEvent.objects.filter(action__startswith="registry.beneficiary").count()


@pytest.fixture
def checked_job(tree, policy, officer_a, client_for):
    """officer_a uploaded a file with two good and two bad rows; it has been checked."""
    response = upload(client_for(officer_a), xlsx_bytes(good_rows() + bad_rows()), commune=tree.a)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(job)
    return job


# --- the import page ----------------------------------------------------------------------------


def test_template_download_is_an_xlsx_with_the_vietnamese_headers(client_for, officer_a, policy):
    response = client_for(officer_a).get(reverse("imports:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in wb["Danh sách"][1]] == HEADERS
    assert "Họ và tên" in HEADERS and "Số CCCD" in HEADERS


def test_import_page_offers_only_the_officers_commune_preselected(client_for, officer_a, tree):
    response = client_for(officer_a).get(reverse("imports:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<option value="{tree.a.pk}" selected>' in body
    assert f'value="{tree.b.pk}"' not in body
    assert 'data-nav="imports"' in body
    assert 'enctype="multipart/form-data"' in body


def test_import_page_has_no_inline_script_or_style(client_for, checked_job, officer_a):
    client = client_for(officer_a)
    for url in [reverse("imports:index"), detail(checked_job)]:
        body = client.get(url).content.decode()
        assert "style=" not in body and "<style" not in body, url
        for chunk in body.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), url


def test_recent_imports_are_scoped(client_for, checked_job, officer_a, officer_b):
    body = client_for(officer_a).get(reverse("imports:index")).content.decode()
    assert f'data-job="{checked_job.pk}"' in body
    body = client_for(officer_b).get(reverse("imports:index")).content.decode()
    assert f'data-job="{checked_job.pk}"' not in body


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("danh-sach.txt", b"Ho va ten\nA\n", "Excel"),  # wrong type
        ("danh-sach.xlsx", b"", ""),  # empty file (refused by the form field)
        ("danh-sach.xlsx", b"not a workbook", "Excel"),  # unreadable workbook
        ("danh-sach.csv", "Tên;Tuổi\nA;3\n".encode(), "Họ và tên"),  # missing required columns
    ],
)
def test_unusable_files_are_refused_on_the_form(client_for, officer_a, tree, policy, name, content, expected):
    response = upload(client_for(officer_a), content, commune=tree.a, name=name)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_file_error"' in body
    assert expected in body
    assert not ImportJob.objects.exclude(status=ImportStatus.FAILED).exists()
    assert Beneficiary.objects.count() == 0


def test_too_large_file_is_refused(client_for, officer_a, tree, policy, monkeypatch):
    monkeypatch.setattr(import_jobs, "MAX_UPLOAD_BYTES", 1000)
    response = upload(client_for(officer_a), xlsx_bytes(good_rows()), commune=tree.a)
    assert response.status_code == 422
    assert 'id="id_file_error"' in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_upload_for_another_commune_is_refused(client_for, officer_a, tree, policy):
    response = upload(client_for(officer_a), xlsx_bytes(good_rows()), commune=tree.b)
    assert response.status_code == 422
    assert 'id="id_commune_error"' in response.content.decode()
    assert ImportJob.objects.count() == 0


# --- the row report, confirmation and re-import -------------------------------------------------


def test_file_with_errors_shows_the_row_report_and_writes_nothing(client_for, officer_a, checked_job):
    job = checked_job
    assert job.status == ImportStatus.VALIDATED
    assert (job.total_rows, job.to_create, job.error_rows) == (4, 2, 2)
    body = client_for(officer_a).get(detail(job)).content.decode()
    assert 'data-table="errors"' in body
    assert '<tr data-row="4"><td class="app-import-row">4</td><td class="app-import-col">Số CCCD</td>' in body
    for column in ("Số điện thoại", "Thôn/khóm/ấp", "Đối tượng"):
        assert f'<td class="app-import-col">{column}</td>' in body
    assert '<dd data-count="error_rows">2</dd>' in body
    assert '<dd data-count="to_create">2</dd>' in body
    assert 'data-action="confirm"' in body
    assert reverse("imports:confirm", args=[job.pk]) in body
    assert POLL not in body
    assert Beneficiary.objects.count() == 0
    assert beneficiary_events() == 0


def test_error_report_download_has_the_error_column(client_for, officer_a, checked_job):
    response = client_for(officer_a).get(reverse("imports:report", args=[checked_job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content))["Danh sách"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Dòng", ERROR_HEADER, WARNING_HEADER]
    assert header[3:] == HEADERS
    errors = {r[0].value: r[1].value for r in sheet.iter_rows(min_row=2)}
    assert set(errors) == {2, 3, 4, 5}
    assert errors[2] in (None, "") and errors[3] in (None, "")
    assert errors[4].startswith("Số CCCD: ")
    assert "Số điện thoại: " in errors[5] and "Thôn/khóm/ấp: " in errors[5] and "Đối tượng: " in errors[5]
    names = {r[0].value: r[3].value for r in sheet.iter_rows(min_row=2)}
    assert names[5] == "Võ Thị Dung"  # the row as uploaded, to fix and upload again


def test_confirm_imports_only_the_valid_rows_once(client_for, officer_a, checked_job):
    client = client_for(officer_a)
    response = client.post(reverse("imports:confirm", args=[checked_job.pk]))
    assert response.status_code == 302 and response["Location"] == detail(checked_job)
    job = ImportJob.objects.get(pk=checked_job.pk)
    assert (job.status, job.created, job.updated) == (ImportStatus.DONE, 2, 0)
    assert set(Beneficiary.objects.values_list("name_key", flat=True)) == {"nguyen thi anh", "tran van binh"}
    assert beneficiary_events() == 2
    body = client.get(detail(job)).content.decode()
    assert 'data-state="done"' in body and '<dd data-count="created">2</dd>' in body
    assert 'data-action="confirm"' not in body and 'data-action="cancel"' not in body
    # posting the confirmation again is harmless
    assert client.post(reverse("imports:confirm", args=[job.pk])).status_code == 302
    assert Beneficiary.objects.count() == 2 and beneficiary_events() == 2
    # cancelling a finished import changes nothing either
    client.post(reverse("imports:cancel", args=[job.pk]))
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE


def test_importing_the_same_file_again_changes_nothing(client_for, officer_a, tree, policy):
    client = client_for(officer_a)
    content = xlsx_bytes(good_rows())
    upload(client, content, commune=tree.a)
    first = ImportJob.objects.get()
    client.post(reverse("imports:confirm", args=[first.pk]))
    assert Beneficiary.objects.count() == 2
    events = beneficiary_events()
    all_events = AuditEvent.objects.count()

    response = upload(client, content, commune=tree.a)
    second = ImportJob.objects.exclude(pk=first.pk).get()
    assert response["Location"] == detail(second)
    assert (second.status, second.to_create, second.to_update, second.unchanged) == (ImportStatus.VALIDATED, 0, 0, 2)
    body = client.get(detail(second)).content.decode()
    assert 'data-state="nothing-to-write"' in body
    assert 'data-action="confirm"' not in body
    # even a confirmation posted by hand writes nothing
    client.post(reverse("imports:confirm", args=[second.pk]))
    second.refresh_from_db()
    assert (second.status, second.created, second.updated, second.unchanged) == (ImportStatus.DONE, 0, 0, 2)
    assert Beneficiary.objects.count() == 2
    assert beneficiary_events() == events
    # only the import's own events (uploaded, checking, checked, confirmed, done) were added
    assert AuditEvent.objects.count() - all_events == 5
    assert (
        not AuditEvent.objects.filter(action__startswith="registry.beneficiary")
        .exclude(action="registry.beneficiary.created")
        .exists()
    )


def test_a_changed_value_becomes_an_update(client_for, officer_a, tree, policy):
    client = client_for(officer_a)
    rows = good_rows()
    upload(client, xlsx_bytes(rows), commune=tree.a)
    client.post(reverse("imports:confirm", args=[ImportJob.objects.get().pk]))
    rows[0][KEYS.index("phone")] = "0903 111 222"
    upload(client, xlsx_bytes(rows), commune=tree.a)
    job = ImportJob.objects.order_by("-pk").first()
    assert (job.to_create, job.to_update, job.unchanged) == (0, 1, 1)
    body = client.get(detail(job)).content.decode()
    assert '<dd data-count="to_update">1</dd>' in body and 'data-action="confirm"' in body
    client.post(reverse("imports:confirm", args=[job.pk]))
    assert Beneficiary.objects.get(name_key="nguyen thi anh").phone == "+84903111222"
    assert AuditEvent.objects.filter(action="registry.beneficiary.updated").count() == 1


def test_cancel_writes_nothing_and_confirm_after_cancel_is_ignored(client_for, officer_a, checked_job):
    client = client_for(officer_a)
    response = client.post(reverse("imports:cancel", args=[checked_job.pk]))
    assert response.status_code == 302
    assert ImportJob.objects.get(pk=checked_job.pk).status == ImportStatus.CANCELLED
    client.post(reverse("imports:confirm", args=[checked_job.pk]))
    assert ImportJob.objects.get(pk=checked_job.pk).status == ImportStatus.CANCELLED
    assert Beneficiary.objects.count() == 0
    body = client.get(detail(checked_job)).content.decode()
    assert 'data-state="cancelled"' in body and 'data-action="confirm"' not in body


def test_error_table_is_paginated(client_for, officer_a, checked_job, monkeypatch):
    from ansinh.web.views import imports as views

    monkeypatch.setattr(views, "ERRORS_PER_PAGE", 2)
    client = client_for(officer_a)
    first = client.get(detail(checked_job)).content.decode()
    last = client.get(detail(checked_job), {"page": 2}).content.decode()
    assert error_table(first).count("<tr data-row=") == 2 and 'rel="next"' in first
    assert error_table(last).count('<tr data-row="5">') == 2 and '<tr data-row="4">' not in error_table(last)


def error_table(body: str) -> str:
    return body.split('data-table="errors"', 1)[1].split("</table>", 1)[0]


def test_likely_duplicates_are_listed_as_warnings(client_for, officer_a, tree, policy):
    client = client_for(officer_a)
    upload(client, xlsx_bytes(good_rows()[:1]), commune=tree.a)
    client.post(reverse("imports:confirm", args=[ImportJob.objects.get().pk]))
    twin = good_rows()[0]
    twin[KEYS.index("cccd")] = ""  # same name and date of birth, no CCCD, in another commune's file
    twin[KEYS.index("village")] = ""
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    officer = make_user("officer_b2", Role.COMMUNE_OFFICER, tree.b)
    client = client_for(officer)
    upload(client, xlsx_bytes([twin]), commune=tree.b)
    job = ImportJob.objects.get(commune=tree.b)
    assert job.warnings and job.to_create == 1
    body = client.get(detail(job)).content.decode()
    assert 'data-table="warnings"' in body and '<tr data-row="2">' in body
    assert 'data-table="errors"' not in body


# --- personas -----------------------------------------------------------------------------------


def test_officer_b_gets_404_on_officer_as_job(client_for, officer_b, checked_job):
    client = client_for(officer_b)
    pk = checked_job.pk
    assert client.get(reverse("imports:detail", args=[pk])).status_code == 404
    assert client.get(reverse("imports:status", args=[pk]), **HX).status_code == 404
    assert client.get(reverse("imports:report", args=[pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[pk])).status_code == 404
    assert client.post(reverse("imports:cancel", args=[pk])).status_code == 404
    assert ImportJob.objects.get(pk=pk).status == ImportStatus.VALIDATED
    assert Beneficiary.objects.count() == 0


def test_viewer_a_sees_the_job_but_may_not_import(client_for, viewer_a, checked_job, tree):
    client = client_for(viewer_a)
    pk = checked_job.pk
    body = client.get(reverse("imports:detail", args=[pk])).content.decode()
    assert 'data-table="errors"' in body
    assert 'data-action="confirm"' not in body and 'data-action="report"' not in body
    assert client.post(reverse("imports:confirm", args=[pk])).status_code == 403
    assert client.post(reverse("imports:cancel", args=[pk])).status_code == 403
    assert client.get(reverse("imports:report", args=[pk])).status_code == 403
    assert client.get(reverse("imports:index")).status_code == 403
    assert client.get(reverse("imports:template")).status_code == 403
    response = upload(client, xlsx_bytes(good_rows()), commune=tree.a)
    assert response.status_code == 403
    assert ImportJob.objects.count() == 1
    assert ImportJob.objects.get(pk=pk).status == ImportStatus.VALIDATED
    assert Beneficiary.objects.count() == 0
    assert 'data-nav="imports"' not in client.get(reverse("dashboard")).content.decode()


def test_anonymous_is_sent_to_login(checked_job):
    from django.test import Client

    client = Client()
    for url in [reverse("imports:index"), detail(checked_job), reverse("imports:report", args=[checked_job.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(reverse("imports:confirm", args=[checked_job.pk]))
    assert response.status_code == 302
    assert ImportJob.objects.get(pk=checked_job.pk).status == ImportStatus.VALIDATED
    # a polling page whose session ended is sent to the login form as a whole
    response = client.get(reverse("imports:status", args=[checked_job.pk]), **HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('login')}?next={detail(checked_job)}"


# --- background jobs: progress and polling ------------------------------------------------------


def large_csv() -> tuple[bytes, int]:
    """A CSV just over the background threshold: as many valid rows as it takes."""
    template = good_rows()[1]
    lines = [";".join(HEADERS)]
    size = len(lines[0])
    while size <= import_jobs.BACKGROUND_BYTES:
        r = list(template)
        r[KEYS.index("cccd")] = cccd_for(date(1950, 6, 7), "male", f"{300000 + len(lines):06d}")
        r[KEYS.index("address")] = f"Số {len(lines)}, đường Tôn Đức Thắng, khóm Châu Long 1"
        lines.append(";".join(str(v) for v in r))
        size += len(lines[-1].encode()) + 1
    return "\n".join(lines).encode("utf-8"), len(lines) - 1


def test_background_job_polls_until_checked_then_stops(client_for, officer_a, tree, policy, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = client_for(officer_a)
    content, rows = large_csv()
    assert len(content) > import_jobs.BACKGROUND_BYTES
    response = upload(client, content, commune=tree.a, name="lon.csv")
    job = ImportJob.objects.get()
    assert response["Location"] == detail(job)
    assert job.status == ImportStatus.UPLOADED  # left to the worker
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("check_import_task") and task.args_kwargs["args"] == [job.pk, officer_a.pk]

    status_url = reverse("imports:status", args=[job.pk])
    body = client.get(detail(job)).content.decode()
    assert POLL in body and f'hx-get="{status_url}"' in body
    assert 'data-action="confirm"' not in body

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING, progress=42)
    partial = client.get(status_url, **HX)
    body = partial.content.decode()
    assert partial.status_code == 200 and partial["Cache-Control"] == "no-store"
    assert body.startswith('<div id="import-job"') and "<html" not in body
    assert POLL in body and 'aria-valuenow="42"' in body and "app-pct-40" in body

    import_jobs.check_import(job_id=job.pk)  # what the worker runs
    body = client.get(status_url, **HX).content.decode()
    assert POLL not in body
    assert f'<dd data-count="to_create">{rows}</dd>' in body and 'data-action="confirm"' in body

    client.post(reverse("imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.IMPORTING and Beneficiary.objects.count() == 0
    assert DBTaskResult.objects.filter(task_path__endswith="apply_import_task").count() == 1
    body = client.get(status_url, **HX).content.decode()
    assert POLL in body and 'data-job-status="importing"' in body

    import_jobs.apply_import(job_id=job.pk, actor=officer_a)
    body = client.get(status_url, **HX).content.decode()
    assert POLL not in body and f'<dd data-count="created">{rows}</dd>' in body
    assert Beneficiary.objects.count() == rows


def test_status_without_htmx_redirects_to_the_job(client_for, officer_a, checked_job):
    response = client_for(officer_a).get(reverse("imports:status", args=[checked_job.pk]))
    assert response.status_code == 302 and response["Location"] == detail(checked_job)


def test_failed_background_check_is_shown_on_the_job_page(client_for, officer_a, checked_job):
    ImportJob.objects.filter(pk=checked_job.pk).update(status=ImportStatus.FAILED, message="Tệp rỗng.")
    body = client_for(officer_a).get(detail(checked_job)).content.decode()
    assert 'data-state="failed"' in body and "Tệp rỗng." in body and POLL not in body
    assert client_for(officer_a).get(reverse("imports:report", args=[checked_job.pk])).status_code == 404
