"""API tokens expire: a default lifetime (ANSINH_API_TOKEN_DAYS) applied by the service, the
command and the web page; an explicit --days on the command; an expired token is refused."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ansinh.accounts.models import ApiToken
from ansinh.accounts.services import create_api_token
from ansinh.audit.models import AuditEvent


def days_left(token: ApiToken) -> float:
    return (token.expires_at - timezone.now()) / timedelta(days=1)


def test_a_new_token_expires_after_the_default_lifetime(officer_a, settings):
    settings.ANSINH_API_TOKEN_DAYS = 90
    token, _raw = create_api_token(actor=officer_a, user=officer_a)
    assert token.expires_at is not None
    assert 89.9 < days_left(token) <= 90
    event = AuditEvent.objects.get(action="accounts.api_token.created", object_id=str(token.pk))
    assert event.after["expires_at"] == token.expires_at.isoformat()


def test_an_explicit_lifetime_and_an_invalid_one(officer_a):
    token, _raw = create_api_token(actor=officer_a, user=officer_a, days=7)
    assert 6.9 < days_left(token) <= 7
    for days in (0, -1):
        with pytest.raises(ValidationError):
            create_api_token(actor=officer_a, user=officer_a, days=days)


def test_the_command_applies_the_default_and_takes_days(officer_a, settings):
    settings.ANSINH_API_TOKEN_DAYS = 30
    out = StringIO()
    call_command("create_api_token", "officer_a", stdout=out)
    first = ApiToken.objects.get(user=officer_a)
    assert 29.9 < days_left(first) <= 30
    call_command("create_api_token", "officer_a", "--days", "365", stdout=StringIO())
    second = ApiToken.objects.exclude(pk=first.pk).get(user=officer_a)
    assert 364.9 < days_left(second) <= 365


def test_the_web_page_creates_expiring_tokens_and_shows_the_date(client_for, officer_a, settings):
    settings.ANSINH_API_TOKEN_DAYS = 90
    client = client_for(officer_a)
    client.post(reverse("account:tokens"), {"name": "bảng tính"})
    token = ApiToken.objects.get(user=officer_a)
    assert 89.9 < days_left(token) <= 90
    page = client.get(reverse("account:tokens")).content.decode()
    assert timezone.localtime(token.expires_at).strftime("%d/%m/%Y") in page
    assert 'data-expires="' in page


def test_an_expired_token_is_refused_by_the_api(officer_a):
    token, raw = create_api_token(actor=officer_a, user=officer_a, days=1)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/me").status_code == 401


def test_tokens_made_before_the_default_lifetime_get_one(officer_a, settings):
    import importlib

    from django.apps import apps

    settings.ANSINH_API_TOKEN_DAYS = 30
    endless, _raw = create_api_token(actor=officer_a, user=officer_a)
    ApiToken.objects.filter(pk=endless.pk).update(expires_at=None)
    migration = importlib.import_module("ansinh.accounts.migrations.0002_api_tokens_expire")
    migration.give_tokens_an_end(apps, None)
    endless.refresh_from_db()
    assert 29.9 < days_left(endless) <= 30
    assert AuditEvent.objects.get(action="accounts.api_token.expiry_set").after["tokens"] == 1
