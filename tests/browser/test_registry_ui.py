"""The registry in a real browser: live search without diacritics, a CCCD that contradicts the
birth year refused at its field, and another commune's officer getting the 404 page."""

from datetime import date

import pytest

from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput
from ansinh.registry.models import Beneficiary
from tests.factories import cccd_for

pytestmark = pytest.mark.browser


@pytest.fixture
def people(tree, officer_a):
    """Two beneficiaries of commune A, registered through the service."""
    from django.conf import settings

    from ansinh.policy.services import load_policy

    load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)

    def make(name, birth, gender, tail):
        data = BeneficiaryInput(
            full_name=name,
            birth_date=birth,
            gender=gender,
            commune_id=tree.a.pk,
            village_id=tree.village_a.pk,
            cccd=cccd_for(birth, gender, tail),
            phone="0912345678",
            categories=[CategoryInput(code="D20.5.6", condition="severe:adult")],
            decision_number="15/QĐ-UBND",
            decision_date=date(2025, 1, 10),
        )
        return services.create_beneficiary(actor=officer_a, data=data)

    return make("Nguyễn Thị Ánh", date(1950, 5, 17), "female", "012345"), make(
        "Võ Văn Kiệt", date(1944, 2, 2), "male", "222333"
    )


def test_officer_finds_a_beneficiary_by_typing_without_diacritics(page, login, live_server, officer_a, people):
    anh, kiet = people
    login(page, officer_a)
    page.goto(f"{live_server.url}/beneficiaries/")
    assert page.locator(f'[data-beneficiary="{kiet.pk}"]').is_visible()
    page.evaluate("window.__noReload = true")
    page.locator("#id_q").press_sequentially("nguyen thi anh", delay=20)
    page.locator(f'[data-beneficiary="{kiet.pk}"]').wait_for(state="detached")
    row = page.locator(f'[data-beneficiary="{anh.pk}"]')
    assert row.is_visible()
    assert "Nguyễn Thị Ánh" in row.inner_text()
    assert page.evaluate("window.__noReload === true")  # results came live, the page stayed
    assert "q=nguyen%20thi%20anh" in page.url  # and the address can be shared or reloaded
    assert not page.console_errors


def test_cccd_contradicting_the_birth_year_is_shown_at_the_field(phone_page, login, live_server, officer_a, people):
    page = phone_page
    login(page, officer_a)
    page.goto(f"{live_server.url}/beneficiaries/new/")
    page.fill("#id_full_name", "Lê Văn Cường")
    page.locator("#id_birth_date").press_sequentially("03021948")  # the slashes come by themselves
    assert page.locator("#id_birth_date").input_value() == "03/02/1948"
    page.select_option("#id_gender", "male")
    page.fill("#id_cccd", cccd_for(date(1958, 2, 3), "male", "654321"))  # digits 5–6 say 1958
    page.fill("#id_phone", "0987654321")
    page.select_option("#id_cat-0-entitlement", "D20.5.6|severe:adult|")
    page.fill("#id_decision_number", "21/QĐ-UBND")
    page.fill("#id_decision_date", "05/06/2025")
    count = Beneficiary.objects.count()
    page.click("#beneficiary-form button[type=submit]")
    error = page.locator("#id_cccd_error")
    error.wait_for()
    assert "48" in error.inner_text()
    assert "is-invalid" in page.locator("#id_cccd").get_attribute("class")
    assert page.locator("#id_full_name").input_value() == "Lê Văn Cường"  # what was typed stays
    assert page.locator("#id_birth_date").input_value() == "03/02/1948"
    assert Beneficiary.objects.count() == count
    assert not Beneficiary.objects.filter(full_name="Lê Văn Cường").exists()


def test_officer_of_another_commune_gets_the_404_page(page, login, live_server, officer_b, people):
    anh, _kiet = people
    login(page, officer_b)
    response = page.goto(f"{live_server.url}/beneficiaries/{anh.pk}/")
    assert response.status == 404
    assert "Nguyễn Thị Ánh" not in page.content()
    assert page.locator("h1").count() == 1


def test_date_fields_show_day_first_in_an_english_browser(browser, request, login, live_server, officer_a, people):
    """<input type="date"> followed the browser's locale (mm/dd/yyyy in an English one): the
    date fields are dd/mm/yyyy text whatever the browser's language."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        login(page, officer_a)
        page.goto(f"{live_server.url}/beneficiaries/new/")
        field = page.locator("#id_birth_date")
        assert field.get_attribute("type") == "text"
        assert field.get_attribute("placeholder") == "dd/mm/yyyy"
        field.press_sequentially("17051950")
        assert field.input_value() == "17/05/1950"
        page.locator("#id_decision_date").press_sequentially("5/6/2025")  # separators typed: kept
        assert page.locator("#id_decision_date").input_value() == "5/6/2025"
    finally:
        context.close()
