from django.urls import reverse

from ansinh.accounts.models import ApiToken, hash_token
from ansinh.accounts.services import create_api_token
from ansinh.audit.models import AuditEvent


def test_create_a_token_shows_the_raw_value_once(client_for, officer_a):
    client = client_for(officer_a)
    response = client.post(reverse("account:tokens"), {"name": "bảng tính"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=officer_a)
    raw = response.context["raw"]
    assert token.key_hash == hash_token(raw)
    assert raw in response.content.decode()
    page = client.get(reverse("account:tokens")).content.decode()
    assert raw not in page
    assert token.key_prefix in page
    assert AuditEvent.objects.filter(action="accounts.api_token.created").exists()


def test_revoke_own_token(client_for, officer_a):
    token, _raw = create_api_token(actor=officer_a, user=officer_a)
    response = client_for(officer_a).post(reverse("account:revoke_token", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="accounts.api_token.revoked").exists()


def test_others_tokens_are_invisible_and_answer_404(client_for, officer_a, officer_b):
    token, _raw = create_api_token(actor=officer_a, user=officer_a)
    client = client_for(officer_b)
    assert token.key_prefix not in client.get(reverse("account:tokens")).content.decode()
    assert client.post(reverse("account:revoke_token", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_viewer_a_manages_own_tokens(client_for, viewer_a):
    assert client_for(viewer_a).get(reverse("account:tokens")).status_code == 200


def test_tokens_page_query_count(client_for, officer_a, django_assert_max_num_queries):
    for _ in range(5):
        create_api_token(actor=officer_a, user=officer_a)
    client = client_for(officer_a)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("account:tokens")).status_code == 200
