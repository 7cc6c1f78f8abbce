import pytest


@pytest.mark.browser
def test_shots(phone_page, page, login, live_server, officer_a, tree):

    for p, tag in [(phone_page, "phone"), (page, "desktop")]:
        login(p, officer_a)
        p.screenshot(path=f"/tmp/shot_dash_{tag}.png", full_page=True)
        p.goto(f"{live_server.url}/areas/{tree.a.pk}/")
        p.screenshot(path=f"/tmp/shot_area_{tag}.png", full_page=True)
    print(phone_page.console_errors, page.console_errors)
