"""The monitoring dashboard in a real browser (issue 13, part 8): a province user opens the
dashboard, picks the month, drills down from the province to the district and to the commune
whose change list was late, opens the list of people behind a figure, and exports Biểu 02."""

import io

import pytest
from openpyxl import load_workbook

from ansinh.accounts.roles import Role
from tests.conftest import make_user
from tests.monitoring.conftest import month_world  # noqa: F401 (the `month_world` fixture)

pytestmark = pytest.mark.browser


def test_province_user_drills_down_to_a_late_commune_and_exports_bieu02(page, login, live_server, tree, month_world):  # noqa: F811
    province = make_user("so_tinh", Role.PROVINCE_MONITOR, tree.province)
    login(page, province)
    # the dashboard links to the monitoring dashboard
    page.click("[data-action=monitoring]")
    page.wait_for_load_state()
    assert page.url.endswith("/monitoring/")
    assert tree.province.name in page.locator("h1").inner_text()
    page.select_option("#month", "2026-11")
    with page.expect_navigation():
        page.click("[data-form=month] button[type=submit]")
    assert "month=2026-11" in page.url
    assert page.locator("svg.app-chart").count() == 4
    # province → district
    with page.expect_navigation():
        page.click(f"[data-unit='{tree.district.pk}'] a")
    assert page.locator("[data-figure=receiving]").inner_text() == "6"
    assert page.locator("[data-figure=cashless_share]").inner_text() == "66,67 %"
    late = page.locator("[data-table=units] tr[data-overdue]")
    assert late.count() == 1 and tree.a.name in late.inner_text()
    # district → the commune whose change list was late
    with page.expect_navigation():
        late.locator("a").click()
    assert f"/monitoring/{tree.a.pk}/" in page.url
    assert page.locator("[data-figure=overdue]").inner_text() == "1"
    # the people behind a figure
    with page.expect_navigation():
        page.click("[data-figure=not_paid_cashless] a")
    rows = page.locator("[data-table=people] [data-beneficiary]")
    assert rows.count() == 1 and "Trần Thị Hai" in rows.inner_text()
    page.go_back()
    # Biểu 02 of the commune as XLSX (reports:bieu)
    with page.expect_download() as info:
        page.click("[data-action=bieu02]")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(open(download.path(), "rb").read()))  # noqa: SIM115
    text = " ".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)
    assert wb.worksheets[0].title == "Biểu 02" and "Kết quả chi trả qua tài khoản" in text
    assert not page.console_errors
