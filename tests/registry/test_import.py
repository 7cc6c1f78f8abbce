import io
import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from ansinh.audit.models import AuditEvent
from ansinh.registry import import_jobs
from ansinh.registry.columns import COLUMNS, ERROR_HEADER
from ansinh.registry.exports import error_report, import_template
from ansinh.registry.importing import FileError, apply_plan, check_file
from ansinh.registry.models import Beneficiary, ImportStatus, Representative
from tests.factories import cccd_for, import_xlsx
from tests.factories import import_row as row

HEADERS = [c.header for c in COLUMNS]
KEYS = [c.key for c in COLUMNS]


def good_rows():
    b1, b2 = date(1941, 2, 3), date(1950, 6, 7)
    rep_birth = date(1970, 1, 1)
    return [
        row(
            full_name="nguyễn thị  ánh",
            birth_date="03/02/1941",
            gender="Nữ",
            cccd=cccd_for(b1, "female", "100001"),
            phone="0912 345 678",
            village="Khóm Châu Long 1",
            category="D20.5.5.c",
            decision_number="1/QĐ-UBND",
            decision_date="10/01/2024",
            frail="x",
        ),
        row(
            full_name="Trần Văn Bình",
            birth_date="07/06/1950",
            gender="Nam",
            cccd=cccd_for(b2, "male", "100002"),
            phone="0386123456",
            category="D20.5.6",
            condition="severe:adult",
            decision_number="2/QĐ-UBND",
            decision_date="11/01/2024",
            start_month="02/2024",
            rep_full_name="Lê Văn Tư",
            rep_kind="Ủy quyền",
            rep_relationship="Con",
            rep_birth_date="01/01/1970",
            rep_gender="Nam",
            rep_cccd=cccd_for(rep_birth, "male", "999999"),
            rep_phone="0987654321",
            rep_is_payee="x",
        ),
    ]


def bad_rows():
    return [
        # CCCD says born 1960, date of birth says 1941
        row(
            full_name="Phạm Văn Cường",
            birth_date="03/02/1941",
            gender="Nam",
            cccd="089060123456",
            category="D20.5.5.c",
            decision_date="10/01/2024",
            decision_number="3/QĐ",
        ),
        # unknown category, bad phone, unknown village
        row(
            full_name="Võ Thị Dung",
            birth_date="31/12/1939",
            gender="Nữ",
            phone="12345",
            village="Ấp Không Có",
            category="X.9",
            decision_date="10/01/2024",
            decision_number="4/QĐ",
        ),
    ]


def xlsx(rows, path):
    return import_xlsx(rows, path)


@pytest.fixture
def commune(tree, policy):
    return tree.a


def test_check_reports_every_bad_row_and_writes_nothing(commune, tmp_path):
    path = xlsx(good_rows() + bad_rows(), tmp_path / "ds.xlsx")
    plan = check_file(path, commune=commune)
    assert plan.rows == 4
    assert len(plan.creates) == 2
    assert plan.error_rows == 2
    by_row = {(e.row, e.column) for e in plan.errors}
    assert (4, "Số CCCD") in by_row
    assert {(5, "Số điện thoại"), (5, "Thôn/khóm/ấp"), (5, "Đối tượng")} <= by_row
    assert Beneficiary.objects.count() == 0


def test_apply_then_reimport_changes_nothing(commune, tmp_path, officer_a):
    path = xlsx(good_rows(), tmp_path / "ds.xlsx")
    result = apply_plan(actor=officer_a, plan=check_file(path, commune=commune), commune=commune)
    assert result == {"created": 2, "updated": 0, "unchanged": 0}
    anh = Beneficiary.objects.get(name_key="nguyen thi anh")
    assert anh.full_name == "Nguyễn Thị Ánh" and anh.village.name == "Khóm Châu Long 1" and anh.frail
    assert anh.start_month == date(2024, 1, 1)
    binh = Beneficiary.objects.get(name_key="tran van binh")
    assert binh.start_month == date(2024, 2, 1)
    assert binh.representations.get().is_payee
    events = AuditEvent.objects.filter(action="registry.beneficiary.created").count()
    assert events == 2

    plan = check_file(path, commune=commune)
    assert (len(plan.creates), len(plan.updates), len(plan.unchanged)) == (0, 0, 2)
    apply_plan(actor=officer_a, plan=plan, commune=commune)
    assert Beneficiary.objects.count() == 2
    assert AuditEvent.objects.filter(action__startswith="registry.beneficiary").count() == 2


def test_changed_value_becomes_an_audited_update(commune, tmp_path, officer_a):
    rows = good_rows()
    apply_plan(actor=officer_a, plan=check_file(xlsx(rows, tmp_path / "a.xlsx"), commune=commune), commune=commune)
    rows[0][KEYS.index("phone")] = "0903 111 222"
    plan = check_file(xlsx(rows, tmp_path / "b.xlsx"), commune=commune)
    assert (len(plan.creates), len(plan.updates), len(plan.unchanged)) == (0, 1, 1)
    apply_plan(actor=officer_a, plan=plan, commune=commune)
    b = Beneficiary.objects.get(name_key="nguyen thi anh")
    assert b.phone == "+84903111222"
    event = AuditEvent.objects.get(action="registry.beneficiary.updated", object_id=str(b.pk))
    assert event.before == {"phone": "+84912345678"} and event.after == {"phone": "+84903111222"}


def test_duplicate_cccd_within_the_file_is_an_error(commune, tmp_path):
    rows = good_rows()
    rows.append(list(rows[0]))
    plan = check_file(xlsx(rows, tmp_path / "d.xlsx"), commune=commune)
    assert [e.row for e in plan.errors] == [4]


def test_csv_with_semicolons_is_read(commune, tmp_path):
    path = tmp_path / "ds.csv"
    lines = [";".join(HEADERS)] + [";".join(str(v) for v in r) for r in good_rows()]
    path.write_text("\n".join(lines), encoding="utf-8-sig")
    plan = check_file(path, commune=commune)
    assert len(plan.creates) == 2 and not plan.errors


def test_file_without_required_headers_is_refused(commune, tmp_path):
    wb = Workbook()
    wb.active.append(["Tên", "Tuổi"])
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(FileError):
        check_file(tmp_path / "x.xlsx", commune=commune)


def test_template_opens_with_headers_and_category_sheet(commune):
    wb = load_workbook(io.BytesIO(import_template()))
    assert [c.value for c in wb["Danh sách"][1]] == HEADERS
    names = [r[0].value for r in wb["Danh mục"].iter_rows(min_row=2)]
    assert "Người khuyết tật nặng, người khuyết tật đặc biệt nặng" in names  # D20.5.6 by its name


def test_job_lifecycle_error_report_and_confirm(commune, tmp_path, officer_a, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = xlsx(good_rows() + bad_rows(), tmp_path / "ds.xlsx")
    upload = SimpleUploadedFile("ds.xlsx", path.read_bytes())
    job = import_jobs.start_import(actor=officer_a, commune=commune, upload=upload)
    assert job.status == ImportStatus.VALIDATED
    assert (job.total_rows, job.error_rows, job.to_create) == (4, 2, 2)
    assert Beneficiary.objects.count() == 0
    report = load_workbook(io.BytesIO(error_report(job)))["Danh sách"]
    header = [c.value for c in report[1]]
    assert header[1] == ERROR_HEADER
    messages = {r[0].value: r[1].value for r in report.iter_rows(min_row=2)}
    assert messages[2] in (None, "") and "Số CCCD" in messages[4]
    job = import_jobs.confirm_import(actor=officer_a, job=job)
    assert job.status == ImportStatus.DONE and job.created == 2
    # confirming again is harmless
    import_jobs.confirm_import(actor=officer_a, job=job)
    assert Beneficiary.objects.count() == 2


def test_cli_dry_run_and_import(commune, tmp_path, capsys):
    path = xlsx(good_rows() + bad_rows(), tmp_path / "ds.xlsx")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_beneficiaries", str(path), "--area", commune.code, "--dry-run")
    assert exit_info.value.code == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["rows"], out["created"], len({e["row"] for e in out["errors"]})) == (4, 2, 2)
    assert {"row", "column", "message"} <= set(out["errors"][0])
    assert Beneficiary.objects.count() == 0
    good = xlsx(good_rows(), tmp_path / "good.xlsx")
    call_command("import_beneficiaries", str(good), "--area", commune.code)
    out = json.loads(capsys.readouterr().out)
    assert (out["created"], out["errors"]) == (2, [])
    assert Beneficiary.objects.count() == 2 and Representative.objects.count() == 1
    call_command("import_beneficiaries", str(good), "--area", commune.code)
    out = json.loads(capsys.readouterr().out)
    assert (out["created"], out["updated"], out["unchanged"]) == (0, 0, 2)


def test_unreadable_csv_fails_the_job_instead_of_leaving_it_checking(commune, tmp_path, officer_a, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    # A field larger than the csv module's limit (128 KiB) cannot be read.
    content = ",".join(HEADERS) + "\n" + '"' + "x" * 200_000 + '"\n'
    upload = SimpleUploadedFile("big-cell.csv", content.encode())
    job = import_jobs.start_import(actor=officer_a, commune=commune, upload=upload)
    assert job.status == ImportStatus.FAILED
    assert job.message and job.progress == 100
    assert Beneficiary.objects.count() == 0


def test_job_cancelled_during_its_check_stays_cancelled(commune, tmp_path, officer_a, settings, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = xlsx(good_rows(), tmp_path / "ds.xlsx")
    real_plan = import_jobs._plan

    def plan_then_cancel(job, progress=None):
        plan = real_plan(job, progress)
        import_jobs.cancel_import(actor=officer_a, job=job)  # the officer cancels while it runs
        return plan

    monkeypatch.setattr(import_jobs, "_plan", plan_then_cancel)
    job = import_jobs.start_import(
        actor=officer_a, commune=commune, upload=SimpleUploadedFile("ds.xlsx", path.read_bytes())
    )
    assert job.status == ImportStatus.CANCELLED
    assert job.to_create == 0
    assert import_jobs.confirm_import(actor=officer_a, job=job).status == ImportStatus.CANCELLED
    assert Beneficiary.objects.count() == 0
