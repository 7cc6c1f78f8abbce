"""A list on paper in a real browser: the officer opens the print page from the list, the
page prints on A4 with the header row repeated and nothing of the screen's toolbar, and with
the signature column every row has a cell to sign in. The PDF chromium makes has several
pages for 60 people."""

from datetime import date

import pytest

from ansinh.core.text import search_key
from ansinh.registry.models import Beneficiary
from tests.factories import cccd_for

pytestmark = pytest.mark.browser


@pytest.fixture
def sixty(tree):
    rows = []
    for i in range(60):
        born = date(1940, 1, 1 + i % 28)
        name = f"Nguyễn Thị Số {i:02d}"
        rows.append(
            Beneficiary(
                full_name=name,
                name_key=search_key(name),
                birth_date=born,
                gender="female",
                cccd=cccd_for(born, "female", str(i).zfill(6)),
                commune=tree.a,
                village=tree.village_a,
                area_path=tree.village_a.path,
                start_month=date(2026, 1, 1),
            )
        )
    return Beneficiary.objects.bulk_create(rows)


def test_the_officer_prints_the_whole_list_with_a_signature_column(page, login, live_server, officer_a, sixty):
    login(page, officer_a)
    page.goto(f"{live_server.url}/beneficiaries/")
    page.click('[data-action="print"]')
    page.wait_for_load_state()
    assert "/beneficiaries/print/" in page.url
    page.click("[data-sign-toggle]")
    page.wait_for_load_state()
    assert page.locator("[data-print-table] tbody tr").count() == 60
    assert page.locator("td.sign").count() == 60
    assert page.locator("[data-unit]").inner_text() == "UBND PHƯỜNG CHÂU PHÚ A"
    assert page.locator(".print-toolbar").is_visible()  # on screen: the print button and links

    page.emulate_media(media="print")
    assert not page.locator(".print-toolbar").is_visible()  # never on paper
    assert page.evaluate("getComputedStyle(document.querySelector('thead')).display") == "table-header-group"
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2  # A4 pages, not one long sheet
    assert not page.console_errors


def test_the_officer_prints_a_registration_list_from_the_coverage_page(
    page, login, live_server, tree, policy, officer_a, officer_b
):
    from tests.payments.registration_world import build

    build(tree, officer_a, officer_b)
    login(page, officer_a)
    page.goto(f"{live_server.url}/payments/coverage/")
    page.click(f'[data-unit="area:{tree.a.pk}"] [data-list="ncc"]')
    page.wait_for_load_state()
    assert page.locator('[data-list="ncc"] tbody tr').count() == 2
    page.click('[data-action="print"]')
    page.wait_for_load_state()
    assert "/payments/registration-lists/print/" in page.url
    assert page.locator("[data-print-table] tbody tr").count() == 2
    assert "NGƯỜI CÓ CÔNG" in page.locator(".print-title").inner_text()
    assert "CHỦ TỊCH UBND" in page.locator("[data-signatures]").inner_text()
    assert not page.console_errors
