from django.urls import reverse

from ansinh.areas.services import create_village
from ansinh.audit.models import AuditEvent


def test_officer_a_sees_events_in_a_only(client_for, officer_a, officer_b, tree):
    create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    create_village(actor=officer_b, commune=tree.b, name="Thôn Tây", kind="Thôn")
    body = client_for(officer_a).get(reverse("audit:list")).content.decode()
    assert "Thôn Đông" in body
    assert "Thôn Tây" not in body


def test_viewer_a_sees_events_of_a(client_for, officer_a, viewer_a, tree):
    create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    body = client_for(viewer_a).get(reverse("audit:list")).content.decode()
    assert "Thôn Đông" in body


def test_officer_b_sees_nothing_of_a(client_for, officer_a, officer_b, tree):
    create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    client = client_for(officer_b)
    assert "Thôn Đông" not in client.get(reverse("audit:list")).content.decode()
    assert client.get(reverse("audit:list"), {"area": tree.a.pk}).status_code == 404


def test_filter_by_action_and_area(client_for, officer_a, tree):
    village = create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    from ansinh.areas.services import rename_village

    rename_village(actor=officer_a, village=village, name="Thôn Bắc")
    client = client_for(officer_a)
    body = client.get(reverse("audit:list"), {"action": "areas.village.renamed"}).content.decode()
    assert 'data-action="areas.village.renamed"' in body
    assert 'data-action="areas.village.created"' not in body
    body = client.get(reverse("audit:list"), {"area": tree.village_a.pk}).content.decode()
    assert 'data-action="areas.village.' not in body


def test_changed_fields_are_shown_before_and_after(client_for, officer_a, tree):
    from ansinh.areas.services import rename_village

    village = create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    rename_village(actor=officer_a, village=village, name="Thôn Bắc")
    body = client_for(officer_a).get(reverse("areas:detail", args=[village.pk])).content.decode()
    assert '<span class="app-before">Đông</span> → <span class="app-after">Bắc</span>' in body


def test_provider_staff_may_not_open_the_log(client_for, tree):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    user = make_user("post", Role.PROVIDER_STAFF, tree.district)
    assert client_for(user).get(reverse("audit:list")).status_code == 403


def test_audit_list_is_paginated_with_bounded_queries(client_for, officer_a, tree, django_assert_max_num_queries):
    for i in range(60):
        create_village(actor=officer_a, commune=tree.a, name=f"Tổ {i}", kind="Tổ dân phố")
    assert AuditEvent.objects.count() == 60
    client = client_for(officer_a)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("audit:list"))
    assert response.status_code == 200
    assert response.content.decode().count('data-action="areas.village.created"') == 50
    assert client.get(reverse("audit:list"), {"page": 2}).content.decode().count("data-action=") == 10
