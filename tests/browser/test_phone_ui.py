"""On a 390 px phone (issue 8, §6): the registry list is one compact card per person (two or
three lines), the menu strip shows the current page and that it scrolls, and a long user name
gives way instead of covering the brand."""

from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput
from tests.factories import cccd_for

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Distinct line tops of the visible cells of a row (cells within 8 px of each other share a line).
LINES_OF_ROWS = """() => [...document.querySelectorAll('#results tbody tr')].map(tr => {
  const tops = [...tr.children].filter(c => c.getClientRects().length).map(c => c.getBoundingClientRect().top);
  tops.sort((a, b) => a - b);
  return tops.filter((t, i) => i === 0 || t - tops[i - 1] > 8).length;
})"""


@pytest.fixture
def people(tree, officer_a, policy):
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

    return [
        make("Nguyễn Thị Ánh", date(1950, 5, 17), "female", "012345"),
        make("Tôn Nữ Thị Phương Thảo Nguyên Hạnh", date(1944, 2, 2), "female", "222333"),
    ]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_list_is_one_card_of_two_or_three_lines_per_person(phone_page, login, live_server, officer_a, people):
    page = login(phone_page, officer_a)
    page.goto(f"{live_server.url}{reverse('registry:list')}")
    page.locator("#results tbody tr").first.wait_for()
    lines = page.evaluate(LINES_OF_ROWS)
    assert len(lines) == len(people)
    assert all(2 <= n <= 3 for n in lines), lines
    # The status sits on the name's line, at the right.
    row = page.locator("#results tbody tr").first
    name = row.locator(".app-cell-title").bounding_box()
    status = row.locator(".app-status").bounding_box()
    assert abs(status["y"] - name["y"]) < 12 and status["x"] > name["x"]
    assert _fits(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "registry-list-phone.png"))
    assert not page.console_errors


def test_the_menu_strip_shows_the_current_page_and_that_it_scrolls(phone_page, login, live_server, officer_a):
    page = login(phone_page, officer_a)
    strip = page.locator("nav.app-nav .nav")
    assert strip.evaluate("ul => ul.scrollWidth > ul.clientWidth"), "on 390 px the menu is wider than the screen"
    # Where more items are hidden, a shadow marks the edge (backgrounds that stay while the items scroll).
    assert "radial-gradient" in strip.evaluate("ul => getComputedStyle(ul).backgroundImage")
    last = page.locator("nav.app-nav .nav-link").last
    page.goto(live_server.url + last.get_attribute("href"))
    active = page.locator("nav.app-nav .nav-link.active")
    box = active.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, "the current page's item is scrolled into view"
    assert _fits(page)
    assert not page.console_errors


def test_a_long_user_name_does_not_cover_the_brand(phone_page, login, live_server, officer_a):
    officer_a.full_name = "Công Tằng Tôn Nữ Thị Phương Thảo Nguyên"
    officer_a.save(update_fields=["full_name"])
    page = login(phone_page, officer_a)
    brand = page.locator(".app-brand").bounding_box()
    language = page.locator(".app-lang").bounding_box()
    menu = page.locator("details.app-menu > summary").bounding_box()
    name = page.locator(".app-brand-text strong")
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the brand's name is not cut"
    assert brand["x"] + brand["width"] <= language["x"]
    assert language["x"] + language["width"] <= menu["x"]
    assert menu["x"] + menu["width"] <= 390
    assert page.locator(".app-menu-name").evaluate("el => el.scrollWidth > el.clientWidth"), "the name is shortened"
    assert _fits(page)
