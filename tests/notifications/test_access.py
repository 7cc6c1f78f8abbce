"""Who reads the outbox: scoped by area; phones in full only for those who manage users or see
contact data; the sandbox's messages on a staff page and in the API."""

import pytest
from django.db import transaction
from django.urls import reverse

from ansinh.accounts.models import User
from ansinh.accounts.roles import Role
from ansinh.notifications import queries, services
from ansinh.notifications.models import MessageStatus
from tests.conftest import make_user

from .conftest import LANDLINE, MOBILE, VARS

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(tree):
    with transaction.atomic():
        a = services.queue(
            actor=None, key="account.changed", variables=VARS, idempotency_key="a", area=tree.village_a, phone=MOBILE
        )
        b = services.queue(
            actor=None, key="account.changed", variables=VARS, idempotency_key="b", area=tree.b, phone=LANDLINE
        )
    return a, b


def test_scoped_by_area_for_the_personas(outbox, personas):
    a, b = outbox
    assert list(queries.messages_for(personas["officer_a"])) == [a]
    assert list(queries.messages_for(personas["officer_b"])) == [b]
    assert list(queries.messages_for(personas["viewer_a"])) == []  # a province monitor: no outbox
    assert list(queries.messages_for(personas["officer_b"], status=MessageStatus.QUEUED)) == []
    assert list(queries.messages_for(personas["officer_b"], status=MessageStatus.FAILED)) == [b]


def test_the_superuser_reads_everything_with_phones(outbox):
    root = User.objects.create_superuser(username="root", password=None)
    assert set(queries.messages_for(root)) == set(outbox)
    assert queries.phone_visible(root)(outbox[0].area_path)


def test_web_page_lists_filters_and_masks(outbox, tree, client_for, personas):
    a, _b = outbox
    url = reverse("notifications:list")
    page = client_for(personas["officer_a"]).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert a.text in text and MOBILE in text  # the commune officer sees contacts in full
    assert "Cổng thử nghiệm" in text
    assert "+842963861234" not in text
    assert MOBILE not in client_for(personas["officer_a"]).get(url, {"status": "failed"}).content.decode()

    admin = make_user("admin_district", Role.SYSADMIN, tree.district)
    assert MOBILE in client_for(admin).get(url).content.decode()

    other = make_user("clerk_a", Role.OFFICE_OFFICER, tree.province)
    assert client_for(other).get(url).status_code == 200

    police = make_user("police_a", Role.COMMUNE_POLICE, tree.a)
    assert client_for(police).get(url).status_code == 403


def test_phone_masked_for_a_reader_without_contact_rights(outbox, tree, monkeypatch):
    from ansinh.accounts import roles

    monkeypatch.setitem(
        roles.ROLE_CAPABILITIES,
        Role.TREASURY_VIEWER,
        roles.ROLE_CAPABILITIES[Role.TREASURY_VIEWER] | {roles.Cap.NOTIFICATIONS_VIEW},
    )
    reader = make_user("reader", Role.TREASURY_VIEWER, tree.a)
    assert list(queries.messages_for(reader)) == [outbox[0]]
    assert not queries.phone_visible(reader)(outbox[0].area_path)
    assert outbox[0].masked_phone == "*********678"


def test_api_lists_the_users_areas_only(outbox, api_client_for, personas):
    a, b = outbox
    answer = api_client_for(personas["officer_a"]).get("/api/v1/notifications")
    assert answer.status_code == 200
    body = answer.json()
    assert [item["id"] for item in body["items"]] == [a.pk]
    assert body["items"][0]["phone"] == MOBILE and body["has_next"] is False
    body_b = api_client_for(personas["officer_b"]).get("/api/v1/notifications", {"status": "failed"}).json()
    assert [item["id"] for item in body_b["items"]] == [b.pk]
    assert "landline" in body_b["items"][0]["last_error"]
    assert api_client_for(personas["viewer_a"]).get("/api/v1/notifications").json()["items"] == []
    assert api_client_for(personas["officer_a"]).get("/api/v1/notifications", {"status": "nope"}).status_code == 422
