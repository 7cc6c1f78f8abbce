"""Static files and pages on a slow line (issue 8, §6): collected with hashed names and gzip
copies, served by WhiteNoise with DEBUG on (`make run`) as with it off, hashed names cached for
good; pages gzipped; the sign-in page loads no script. (The tests themselves link plain names
through the finders, see settings.STORAGES; this module collects and serves the real thing.)"""

import gzip
import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from ansinh.core.staticfiles import check_collected

PRODUCTION_STATIC = {
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "ansinh.core.staticfiles.CompressedManifestStorage"},
    },
    "WHITENOISE_USE_FINDERS": False,
    "WHITENOISE_AUTOREFRESH": False,
}
CSS = re.compile(r'href="(/static/vendor/bootstrap-[\d.]+/bootstrap\.min\.[0-9a-f]{12}\.css)"')


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """`manage.py collectstatic` as `make setup` runs it, into a directory of this module."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root, **PRODUCTION_STATIC):
        call_command("collectstatic", "--noinput", verbosity=0)
        yield root


@pytest.mark.parametrize("debug", [False, True], ids=["production", "make run (DEBUG=1)"])
def test_collected_files_are_linked_by_hashed_name_gzipped_and_cached_for_good(collected, db, debug):
    with override_settings(DEBUG=debug):
        client = Client()  # WhiteNoise reads its settings when the client builds the middleware
        page = client.get(reverse("login")).content.decode()
        css = CSS.search(page)
        assert css, "the sign-in page links Bootstrap's CSS by its hashed name"

        response = client.get(css.group(1), HTTP_ACCEPT_ENCODING="gzip, deflate")
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        body = gzip.decompress(b"".join(response.streaming_content))
        assert body.startswith(b"@charset") or b"bootstrap" in body[:200].lower()
        cache = response["Cache-Control"]
        assert "immutable" in cache
        assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= 365 * 24 * 3600

        plain = client.get(css.group(1))
        assert "Content-Encoding" not in plain


@override_settings(DEBUG=True)
def test_a_missing_manifest_is_reported_when_runserver_starts(tmp_path, collected):
    assert check_collected() == []
    with override_settings(STATIC_ROOT=tmp_path, **PRODUCTION_STATIC):
        [warning] = check_collected()
    assert warning.id == "ansinh.W001"
    assert "collectstatic" in warning.hint


def _scripts(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)


def test_the_sign_in_page_loads_no_script_and_signed_in_pages_load_htmx_and_ours(client, client_for, officer_a):
    assert _scripts(client.get(reverse("login")).content.decode()) == []

    scripts = _scripts(client_for(officer_a).get(reverse("registry:list")).content.decode())
    assert any("/htmx.min" in src for src in scripts)
    assert any("/ansinh/app" in src for src in scripts)
    assert not any("bootstrap" in src for src in scripts), "Bootstrap's JavaScript is not used"


def test_pages_are_gzipped_when_the_browser_accepts_it_and_spreadsheets_and_the_api_are_not(
    client_for, api_client_for, officer_a
):
    client = client_for(officer_a)
    page = client.get(reverse("registry:list"), HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page["Vary"]
    assert "<html" in gzip.decompress(page.content).decode()

    export = client.get(reverse("registry:export"), HTTP_ACCEPT_ENCODING="gzip")
    assert export.status_code == 200
    assert "spreadsheet" in export["Content-Type"]
    assert "Content-Encoding" not in export

    api = api_client_for(officer_a).get("/api/v1/beneficiaries", HTTP_ACCEPT_ENCODING="gzip")
    assert api.status_code == 200
    assert "Content-Encoding" not in api
