"""Browser tests of the foundation (issue 2): login per role, the menu each role sees, an
outsider getting 404 on another commune's page, lockout after failed logins, the phone layout
and the language switch.

They assert structure (URLs, status codes, data-* attributes, lang) rather than wording, so
they hold while the translations change. The expected menu is computed from
`navigation.ITEMS` and `ROLE_CAPABILITIES`, so menu items added later are covered too."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from ansinh.accounts.roles import ROLE_CAPABILITIES, Role
from ansinh.web import navigation
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NAV_KEYS = "Array.from(document.querySelectorAll('nav.app-nav [data-nav]'), a => a.dataset.nav)"


def real_errors(page) -> list[str]:
    """Console errors, less the browser's own line for a page answered with the status expected."""
    return [e for e in page.console_errors if "the server responded with a status of 429" not in e]


def expected_menu(role: str) -> dict[str, str]:
    """data-nav key -> href of the menu items a holder of `role` alone must see."""
    caps = ROLE_CAPABILITIES[role]
    return {item.key: item.url for item in navigation.ITEMS if item.cap in caps or caps.intersection(item.also)}


def shown_menu(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "nav.app-nav [data-nav]", "links => Object.fromEntries(links.map(a => [a.dataset.nav, a.getAttribute('href')]))"
    )


def submit_login(page, url: str, username: str, password: str, *, reopen: bool = True):
    """Fills the login form and returns the response of the navigation it causes; with
    reopen=False the form already on the page (after a failed attempt) is used."""
    if reopen:
        page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation() as navigation_info:
        page.click("#login-form button[type=submit]")
    return navigation_info.value


def open_account_menu(page):
    page.click("details.app-menu > summary")
    panel = page.locator("details.app-menu .app-menu-panel")
    panel.wait_for(state="visible")
    return panel


def logout(page, live_server):
    open_account_menu(page)
    with page.expect_navigation():
        page.click("details.app-menu form[action='/logout/'] button[type=submit]")
    assert page.url.startswith(f"{live_server.url}{reverse('login')}")


def test_every_role_logs_in_to_its_dashboard_and_sees_its_menu(page, live_server, role_users):
    """One page for all roles: the first logs out through the menu, the others just drop the
    session cookie (quicker)."""
    dashboard = f"{live_server.url}{reverse('dashboard')}"
    for index, role in enumerate(Role):
        user = role_users[role]
        response = submit_login(page, live_server.url, user.username, PASSWORD)
        assert response.status == 200, role
        assert page.url == dashboard, role

        # The dashboard has one card, for this role.
        assert page.eval_on_selector_all("[data-role]", "cards => cards.map(c => c.dataset.role)") == [role.value]
        # The account menu names the user and lists exactly this role.
        panel = open_account_menu(page)
        assert user.username in panel.inner_text(), role
        roles_listed = panel.locator(".app-menu-roles > li")
        assert roles_listed.count() == 1, role
        with translation.override(settings.LANGUAGE_CODE):
            assert str(role.label) in roles_listed.inner_text(), role
        area = user.assignments.get().area
        assert str(area) in roles_listed.inner_text(), role
        page.keyboard.press("Escape")

        # The menu: exactly the items the role's capabilities open, each to its page.
        expected = expected_menu(role)
        assert [item.key for item in navigation.menu_for(user)] == list(expected), role
        assert list(shown_menu(page).items()) == list(expected.items()), role
        assert page.locator("nav.app-nav [data-nav='dashboard'][aria-current='page']").count() == 1, role
        # The staff link to the admin only for the system administrator (is_staff).
        admin_links = page.locator(f"details.app-menu a[href='{reverse('admin:index')}']").count()
        assert admin_links == (1 if role == Role.SYSADMIN else 0), role

        if index == 0:
            logout(page, live_server)
            assert page.locator("nav.app-nav").count() == 0, role
            page.goto(dashboard)
            assert page.url.startswith(f"{live_server.url}{reverse('login')}")
        else:
            page.context.clear_cookies()
    assert real_errors(page) == []


def test_every_menu_item_opens_its_page(page, live_server, login, officer_a):
    """The commune officer's menu items all lead to working pages, each marked current there."""
    login(page, officer_a)
    expected = expected_menu(Role.COMMUNE_OFFICER)
    assert set(expected) >= {"dashboard", "areas", "orgs", "audit"}
    for key, href in expected.items():
        with page.expect_navigation() as navigation_info:
            page.click(f"nav.app-nav [data-nav='{key}']")
        assert navigation_info.value.status == 200, key
        assert page.url == f"{live_server.url}{href}", key
        current = page.eval_on_selector_all(
            "nav.app-nav [aria-current='page']", "links => links.map(a => a.dataset.nav)"
        )
        assert current == [key]
    assert real_errors(page) == []


def test_outsider_gets_404_on_another_communes_page(page, live_server, login, tree, officer_a, officer_b):
    url = f"{live_server.url}{reverse('areas:detail', args=[tree.a.pk])}"

    login(page, officer_b)
    response = page.goto(url)
    assert response.status == 404
    assert page.locator("[data-page='error-404']").is_visible()
    assert tree.a.name not in page.locator("main").inner_text()
    # The error page keeps the user's menu and leads back to the dashboard.
    assert "dashboard" in shown_menu(page)
    logout(page, live_server)

    login(page, officer_a)
    response = page.goto(url)
    assert response.status == 200
    assert page.locator("[data-page='error-404']").count() == 0
    assert tree.a.name in page.locator("main h1").inner_text()


def test_lockout_after_repeated_failures_refuses_even_the_right_password(page, live_server, officer_a, officer_b):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit >= 2
    login_url = f"{live_server.url}{reverse('login')}"
    # Below the limit a wrong password shows the form again with its error.
    for attempt in range(1, limit):
        response = submit_login(page, live_server.url, officer_a.username, "wrong-password", reopen=attempt == 1)
        assert response.status == 200, attempt
        assert page.url == login_url
        assert page.locator("#login-form").is_visible()
        assert page.locator("#id_password.is-invalid").count() == 1
    # The failure that reaches the limit locks the account...
    response = submit_login(page, live_server.url, officer_a.username, "wrong-password", reopen=False)
    assert response.status == 429
    assert page.locator("[data-page='locked-out']").is_visible()
    # ...and then even the right password is refused with the lockout page.
    response = submit_login(page, live_server.url, officer_a.username, PASSWORD)
    assert response.status == 429
    assert page.locator("[data-page='locked-out']").is_visible()
    assert page.locator("nav.app-nav").count() == 0
    # Not signed in: the dashboard sends back to the login page.
    page.goto(f"{live_server.url}{reverse('dashboard')}")
    assert page.url == f"{login_url}?next=/"
    # The lock is per account and device: a colleague on the same device still signs in.
    response = submit_login(page, live_server.url, officer_b.username, PASSWORD)
    assert response.status == 200
    assert page.url == f"{live_server.url}/"
    assert real_errors(page) == []


def test_phone_layout_dashboard_and_menu(phone_page, live_server, login, officer_a):
    page = phone_page
    login(page, officer_a)
    assert page.url == f"{live_server.url}/"
    viewport_width = page.evaluate("window.innerWidth")
    assert viewport_width == 390

    def no_horizontal_overflow():
        return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert no_horizontal_overflow()
    nav = page.locator("nav.app-nav")
    assert nav.is_visible()
    box = nav.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport_width
    # The menu row scrolls sideways instead of widening the page; every item can be reached.
    assert page.eval_on_selector("nav.app-nav .nav", "ul => getComputedStyle(ul).overflowX") in ("auto", "scroll")
    keys = page.evaluate(NAV_KEYS)
    assert set(keys) == set(expected_menu(Role.COMMUNE_OFFICER))
    last = page.locator(f"nav.app-nav [data-nav='{keys[-1]}']")
    last.scroll_into_view_if_needed()
    last_box = last.bounding_box()
    assert last_box["x"] >= 0 and last_box["x"] + last_box["width"] <= viewport_width + 1
    with page.expect_navigation():
        last.tap()
    assert page.url == f"{live_server.url}{expected_menu(Role.COMMUNE_OFFICER)[keys[-1]]}"
    assert no_horizontal_overflow()

    # The account menu opens inside the screen.
    page.goto(f"{live_server.url}/")
    page.locator("details.app-menu > summary").tap()
    panel = page.locator("details.app-menu .app-menu-panel")
    panel.wait_for(state="visible")
    panel_box = panel.bounding_box()
    assert panel_box["x"] >= 0 and panel_box["x"] + panel_box["width"] <= viewport_width + 1
    assert no_horizontal_overflow()
    # The dashboard card fits the screen too.
    card = page.locator(f"[data-role='{Role.COMMUNE_OFFICER.value}']").bounding_box()
    assert card["x"] >= 0 and card["x"] + card["width"] <= viewport_width + 1
    assert real_errors(page) == []


def test_language_switch_to_english_and_back(page, live_server, login, officer_a):
    login(page, officer_a)
    areas_url = f"{live_server.url}{reverse('areas:list')}"
    page.goto(areas_url)
    assert page.get_attribute("html", "lang") == "vi"
    assert page.get_attribute("form.app-lang button[value='vi']", "aria-pressed") == "true"

    with page.expect_navigation():
        page.click("form.app-lang button[value='en']")
    assert page.get_attribute("html", "lang") == "en"
    assert page.url == areas_url  # back on the same page
    assert page.get_attribute("form.app-lang button[value='en']", "aria-pressed") == "true"
    # The choice sticks across pages.
    page.goto(f"{live_server.url}/")
    assert page.get_attribute("html", "lang") == "en"

    with page.expect_navigation():
        page.click("form.app-lang button[value='vi']")
    assert page.get_attribute("html", "lang") == "vi"
    assert page.url == f"{live_server.url}/"
    assert real_errors(page) == []
