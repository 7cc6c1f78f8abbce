"""Login, logout, lockout, anonymous access, health check and security headers."""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

PAGES = ["dashboard", "areas:list", "orgs:list", "audit:list", "account:tokens"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_detail_and_writes_are_sent_to_login(client, tree):
    for url in [reverse("areas:detail", args=[tree.a.pk])]:
        assert client.get(url).status_code == 302
    response = client.post(reverse("areas:create_village", args=[tree.a.pk]), {"name": "X"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_login_page_is_in_vietnamese_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert response["Content-Language"] == "vi"
    body = response.content.decode()
    assert '<html lang="vi">' in body
    assert "Đăng nhập" in body
    assert "Tên đăng nhập" in body


def test_login_with_the_form_lands_on_the_dashboard(client, officer_a):
    response = client.post(reverse("login"), {"username": "officer_a", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Công chức LĐTBXH/VH-XH cấp xã" in response.content.decode()


def test_wrong_password_shows_a_vietnamese_error(client, officer_a):
    response = client.post(reverse("login"), {"username": "officer_a", "password": "wrong-password"})
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.content.decode()


def test_logged_in_user_opening_login_goes_to_dashboard(client_for, officer_a):
    response = client_for(officer_a).get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_logout_is_a_post(client_for, officer_a):
    client = client_for(officer_a)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("dashboard")).status_code == 302


def test_lockout_after_five_failures_even_with_the_right_password(client, officer_a, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        client.post(reverse("login"), {"username": "officer_a", "password": "wrong-password"})
    response = client.post(reverse("login"), {"username": "officer_a", "password": PASSWORD})
    assert response.status_code == 429
    body = response.content.decode()
    assert "Tạm khóa đăng nhập" in body
    assert "30 phút" in body
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_healthz_answers_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/healthz"])
def test_security_headers(client, url):
    response = client.get(url)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client_for, officer_a, tree):
    """The CSP forbids them outside /admin/: every <script> has a src, nothing has style=."""
    client = client_for(officer_a)
    for url in [reverse(n) for n in PAGES] + [reverse("areas:detail", args=[tree.a.pk]), reverse("login")]:
        body = client.get(url).content.decode()
        assert "style=" not in body, url
        assert "<style" not in body, url
        for chunk in body.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), url


def test_language_switch_to_english(client_for, officer_a):
    client = client_for(officer_a)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "Dashboard" in body
    assert "Commune social-affairs officer" in body


@pytest.mark.django_db
def test_unknown_page_is_the_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.content.decode()
