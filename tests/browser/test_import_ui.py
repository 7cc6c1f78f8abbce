"""Importing beneficiaries in the browser: a file with errors shows the row report and writes
nothing; the fixed file is written once on confirmation; the same file again writes nothing."""

from datetime import date

import pytest

from ansinh.registry.models import Beneficiary, ImportJob, ImportStatus
from tests.factories import cccd_for, import_xlsx
from tests.factories import import_row as row

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def rows(*, fixed: bool):
    """Three rows; the third has a CCCD that contradicts the birth year and an unknown
    village unless `fixed`."""
    return [
        row(
            full_name="Nguyễn Thị Ánh",
            birth_date="03/02/1941",
            gender="Nữ",
            cccd=cccd_for(date(1941, 2, 3), "female", "400001"),
            phone="0912345678",
            village="Khóm Châu Long 1",
            category="D20.5.5.c",
            decision_number="1/QĐ-UBND",
            decision_date="10/01/2024",
        ),
        row(
            full_name="Trần Văn Bình",
            birth_date="07/06/1950",
            gender="Nam",
            cccd=cccd_for(date(1950, 6, 7), "male", "400002"),
            phone="0386123456",
            category="D20.5.6",
            condition="severe:adult",
            decision_number="2/QĐ-UBND",
            decision_date="11/01/2024",
        ),
        row(
            full_name="Phạm Văn Cường",
            birth_date="03/02/1941",
            gender="Nam",
            cccd=cccd_for(date(1941, 2, 3), "male", "400003") if fixed else "089060123456",
            phone="0903111222",
            village="Khóm Châu Long 1" if fixed else "Ấp Không Có",
            category="D20.5.5.c",
            decision_number="3/QĐ-UBND",
            decision_date="10/01/2024",
        ),
    ]


def write_xlsx(path, data):
    return str(import_xlsx(data, path))


def upload(page, live_server, path):
    page.goto(f"{live_server.url}/imports/")
    page.set_input_files("#id_file", path)
    page.click("#import-upload button[type=submit]")
    page.wait_for_selector("#import-job[data-job-status=validated]")


def test_file_with_errors_shows_the_row_report_and_writes_nothing(
    phone_page, live_server, login, officer_a, tree, policy, tmp_path
):
    page = login(phone_page, officer_a)
    upload(page, live_server, write_xlsx(tmp_path / "danh-sach.xlsx", rows(fixed=False)))
    errors = page.locator("[data-table=errors] tbody tr")
    assert errors.count() == 2
    assert set(errors.evaluate_all("rows => rows.map(r => r.dataset.row)")) == {"4"}
    assert "Số CCCD" in page.inner_text("[data-table=errors]")
    assert page.inner_text("[data-count=error_rows]") == "1"
    assert page.inner_text("[data-count=to_create]") == "2"
    assert page.is_visible("[data-action=confirm]")
    assert page.locator("[data-action=report]").count() == 1
    # the report fits the phone: no sideways scrolling of the page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert Beneficiary.objects.count() == 0
    assert page.console_errors == []


def test_fixed_file_is_written_once(page, live_server, login, officer_a, tree, policy, tmp_path):
    login(page, officer_a)
    path = write_xlsx(tmp_path / "danh-sach-da-sua.xlsx", rows(fixed=True))
    upload(page, live_server, path)
    assert page.locator("[data-table=errors]").count() == 0
    page.click("[data-action=confirm]")
    page.wait_for_selector("#import-job[data-job-status=done]")
    assert page.inner_text("[data-count=created]") == "3"
    assert Beneficiary.objects.count() == 3

    upload(page, live_server, path)
    assert page.inner_text("[data-count=unchanged_checked]") == "3"
    assert page.is_visible("[data-state=nothing-to-write]")
    assert page.locator("[data-action=confirm]").count() == 0
    assert Beneficiary.objects.count() == 3
    assert list(ImportJob.objects.order_by("pk").values_list("status", flat=True)) == [
        ImportStatus.DONE,
        ImportStatus.VALIDATED,
    ]
    assert page.console_errors == []
