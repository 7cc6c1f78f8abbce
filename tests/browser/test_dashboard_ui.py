"""The dashboard's figures in a real browser: a commune officer reads the month's figures and
opens the list behind one; a district office reads the table per commune on a phone without the
page scrolling sideways."""

import os

import pytest
from django.urls import reverse

from ansinh.accounts.roles import Role
from tests.conftest import make_user
from tests.registry.test_stats import A, B, registry_fixture  # noqa: F401 (the `registry` fixture)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("ANSINH_SCREENSHOTS")  # a folder: keep the screenshots to look at


def _figures(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-section=figures] [data-figure]",
        "els => Object.fromEntries(els.map(e => [e.dataset.figure, e.innerText]))",
    )


def test_commune_officer_reads_the_figures_and_opens_the_list_behind_one(page, login, live_server, registry, officer_a):
    login(page, officer_a)
    page.goto(f"{live_server.url}{reverse('dashboard')}")
    assert _figures(page) == {k: str(v) for k, v in A.items()}
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/dashboard-commune.png", full_page=True)
    with page.expect_navigation():
        page.click("[data-section=figures] a[data-figure=started]")
    assert "change=started" in page.url
    rows = page.locator("[data-beneficiary]")
    assert rows.count() == 1
    assert "Lê Thị Mới" in rows.first.inner_text()
    assert page.locator("#id_change").input_value() == "started"  # the filter shows what is listed
    assert not page.console_errors


def test_office_table_fits_a_phone(phone_page, login, live_server, registry):
    office = make_user("office", Role.OFFICE_OFFICER, registry.district)
    login(phone_page, office)
    phone_page.goto(f"{live_server.url}{reverse('dashboard')}")
    total = phone_page.locator("[data-commune=total] [data-figure=receiving]")
    assert total.inner_text() == str(A["receiving"] + B["receiving"])
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if SHOTS:
        phone_page.screenshot(path=f"{SHOTS}/dashboard-office-phone.png", full_page=True)
    assert not phone_page.console_errors
