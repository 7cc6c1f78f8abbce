from django.urls import reverse

from ansinh.accounts.models import User
from ansinh.accounts.roles import Role
from tests.conftest import make_user


def test_officer_sees_the_commune_officer_card_with_their_commune(client_for, officer_a, tree):
    response = client_for(officer_a).get(reverse("dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-role="commune_officer"' in body
    assert "Phường Châu Phú A" in body
    assert "Chưa có dữ liệu" in body  # figures wait for the later modules
    assert reverse("areas:detail", args=[tree.a.pk]) in body
    assert "Vĩnh Mỹ" not in body


def test_each_role_held_gets_its_own_card(client_for, tree):
    user = make_user("two_roles", Role.COMMUNE_OFFICER, tree.a)
    from ansinh.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=user, role=Role.COMMUNE_POLICE, area=tree.a)
    body = client_for(user).get(reverse("dashboard")).content.decode()
    assert 'data-role="commune_officer"' in body
    assert 'data-role="commune_police"' in body


def test_viewer_card_links_only_to_pages_open_to_them(client_for, viewer_a):
    body = client_for(viewer_a).get(reverse("dashboard")).content.decode()
    assert 'data-role="province_monitor"' in body
    assert 'data-role="commune_officer"' not in body


def test_provider_staff_menu_has_no_audit_log(client_for, tree):
    user = make_user("post_office", Role.PROVIDER_STAFF, tree.district)
    body = client_for(user).get(reverse("dashboard")).content.decode()
    assert 'data-nav="areas"' in body
    assert 'data-nav="audit"' not in body


def test_user_without_role_is_told_to_ask_for_one(client_for, db):
    user = User.objects.create_user(username="nobody", password="x" * 12)
    response = client_for(user).get(reverse("dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-state="no-role"' in body
    assert 'data-nav="areas"' not in body


def test_dashboard_query_count(client_for, officer_a, django_assert_max_num_queries):
    client = client_for(officer_a)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("dashboard")).status_code == 200
