"""A beneficiary looks up this month's allowance on a 360 × 740 phone: large text, no sideways
scrolling, no script needed; the answer shows the amount and how it is paid, and nothing else."""

from pathlib import Path

import pytest

from tests.lookup.conftest import CCCD, paid, people, world  # noqa: F401

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SMALL_PHONE = {"width": 360, "height": 740}


def test_a_beneficiary_sees_the_months_status_on_a_small_phone(browser, live_server, request, paid):  # noqa: F811
    from tests.browser.conftest import _finish, _open

    context, page = _open(
        browser, request, SMALL_PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, java_script_enabled=False
    )
    try:
        page.goto(f"{live_server.url}/tra-cuu/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        label_size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('label[for=id_p-cccd]')).fontSize)"
        )
        assert label_size >= 18, label_size  # large text for older people
        page.fill("#id_p-cccd", "0891 5001 2345")  # typed with spaces, as on the card
        page.fill("#id_p-last4", "5678")
        page.locator("form:has(input[name=action][value=phone]) button[type=submit]").click()
        page.wait_for_load_state()
        answer = page.locator(".public-answer")
        answer.wait_for()
        text = answer.inner_text()
        assert "750.000 đồng" in text
        assert "Chuyển khoản vào tài khoản" in text
        assert "Trần V. M." in text
        assert CCCD not in page.content()
        amount_size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.lookup-amount')).fontSize)")
        assert amount_size >= 20, amount_size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "lookup_360.png"), full_page=True)
    finally:
        _finish(context, page, request)
