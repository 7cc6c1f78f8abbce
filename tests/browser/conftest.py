"""Browser tests: Playwright's sync API driving Debian's chromium against pytest-django's
live server. A screenshot of every failed test goes to test-artifacts/."""

import re
import shutil
from pathlib import Path

import pytest

from ansinh.accounts.roles import Role
from tests.conftest import PASSWORD, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is needed for the browser tests (scripts/ensure-chromium.sh)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _reset_axes(transactional_db):
    """Lockout counters live in the database; clear them around every browser test."""
    from axes.utils import reset

    reset()
    yield
    reset()


def _open(browser, request, viewport, **options):
    context = browser.new_context(viewport=viewport, locale="vi-VN", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    return context, page


def _finish(context, page, request):
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, live_server, request):
    context, page = _open(browser, request, DESKTOP)
    yield page
    _finish(context, page, request)


@pytest.fixture
def phone_page(browser, live_server, request):
    context, page = _open(browser, request, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    yield page
    _finish(context, page, request)


@pytest.fixture
def login(live_server):
    """login(page, user) signs in through the form and waits for the dashboard."""

    def _login(page, user, password=PASSWORD):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login


# Where each role is held in the `tree` fixture.
ROLE_AREAS = {
    Role.COMMUNE_OFFICER: "a",
    Role.VILLAGE_HEAD: "village_a",
    Role.COMMUNE_POLICE: "a",
    Role.OFFICE_OFFICER: "district",
    Role.APPROVER: "district",
    Role.PROVIDER_STAFF: "district",
    Role.TREASURY_VIEWER: "district",
    Role.PROVINCE_MONITOR: "province",
    Role.SYSADMIN: "province",
}


@pytest.fixture
def role_users(tree):
    """One user per role, each on its usual area of the `tree` fixture."""
    return {
        role: make_user(f"user_{role.value}", role, getattr(tree, ROLE_AREAS[role]), is_staff=role == Role.SYSADMIN)
        for role in Role
    }
