"""The administration: pages open for a superuser; user and assignment writes are audited;
audit events and API tokens are read-only."""

import pytest
from django.urls import reverse

from ansinh.accounts.models import OrgKind, RoleAssignment, User
from ansinh.accounts.roles import Role
from ansinh.accounts.services import create_api_token
from ansinh.audit.models import AuditEvent


@pytest.fixture
def root(db):
    return User.objects.create_superuser(username="root", password="Mat-khau-quan-tri-2026", email="")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")
    return client


def inline_management(prefix="assignments", total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def user_form(user, **extra):
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "phone": user.phone,
        "email": user.email,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:accounts_user_changelist",
        "admin:accounts_user_add",
        "admin:accounts_roleassignment_changelist",
        "admin:accounts_orgunit_changelist",
        "admin:accounts_orgunit_add",
        "admin:accounts_apitoken_changelist",
        "admin:areas_area_changelist",
        "admin:areas_area_add",
        "admin:audit_auditevent_changelist",
    ],
)
def test_admin_pages_open(admin_client, tree, officer_a, url_name):
    create_api_token(actor=None, user=officer_a)
    assert admin_client.get(reverse(url_name)).status_code == 200


def test_admin_change_pages_open(admin_client, tree, officer_a, units):
    token, _raw = create_api_token(actor=None, user=officer_a)
    event = AuditEvent.objects.first()
    for url in [
        reverse("admin:accounts_user_change", args=[officer_a.pk]),
        reverse("admin:accounts_orgunit_change", args=[units.a.pk]),
        reverse("admin:accounts_apitoken_change", args=[token.pk]),
        reverse("admin:areas_area_change", args=[tree.a.pk]),
        reverse("admin:audit_auditevent_change", args=[event.pk]),
        reverse("admin:areas_area_changelist") + "?q=chau+phu",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_search_areas_without_accents(admin_client, tree):
    body = admin_client.get(reverse("admin:areas_area_changelist"), {"q": "vinh my"}).content.decode()
    assert "Vĩnh Mỹ" in body
    assert "Châu Phú A" not in body


def test_creating_a_user_is_audited(admin_client, root):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "can_bo_moi",
            "full_name": "Nguyễn Văn Mới",
            "phone": "0912345678",
            "email": "",
            "usable_password": "true",
            "password1": "Mat-khau-rat-dai-2026",
            "password2": "Mat-khau-rat-dai-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="can_bo_moi")
    event = AuditEvent.objects.get(action="accounts.user.created")
    assert event.actor == root
    assert event.object_id == str(user.pk)
    assert event.after["full_name"] == "Nguyễn Văn Mới"
    assert "password" not in event.after


def test_changing_a_user_and_assigning_a_role_is_audited(admin_client, root, tree, officer_a):
    existing = RoleAssignment.objects.get(user=officer_a)
    data = user_form(officer_a, full_name="Trần Thị A")
    data.update(inline_management(total=2, initial=1))
    data.update(
        {
            "assignments-0-id": str(existing.pk),
            "assignments-0-user": str(officer_a.pk),
            "assignments-0-role": existing.role,
            "assignments-0-area": str(tree.a.pk),
            "assignments-1-user": str(officer_a.pk),
            "assignments-1-role": Role.COMMUNE_POLICE,
            "assignments-1-area": str(tree.a.pk),
        }
    )
    response = admin_client.post(reverse("admin:accounts_user_change", args=[officer_a.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    changed = AuditEvent.objects.get(action="accounts.user.changed")
    assert changed.actor == root
    assert changed.before == {"full_name": "Officer A"}
    assert changed.after == {"full_name": "Trần Thị A"}
    assigned = AuditEvent.objects.get(action="accounts.role.assigned")
    assert assigned.after["role"] == Role.COMMUNE_POLICE
    assert assigned.area_path == tree.a.path  # visible in the commune's audit log
    assert not AuditEvent.objects.filter(action="accounts.role.changed").exists()


def test_revoking_a_role_from_the_user_page_is_audited(admin_client, tree, officer_a):
    existing = RoleAssignment.objects.get(user=officer_a)
    data = user_form(officer_a)
    data.update(inline_management(total=1, initial=1))
    data.update(
        {
            "assignments-0-id": str(existing.pk),
            "assignments-0-user": str(officer_a.pk),
            "assignments-0-role": existing.role,
            "assignments-0-area": str(tree.a.pk),
            "assignments-0-revoke": "on",
        }
    )
    response = admin_client.post(reverse("admin:accounts_user_change", args=[officer_a.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    existing.refresh_from_db()
    assert existing.revoked_at is not None
    assert AuditEvent.objects.filter(action="accounts.role.revoked").count() == 1
    assert not AuditEvent.objects.filter(action="accounts.user.changed").exists()


def test_revoke_action_on_assignments(admin_client, officer_a):
    assignment = RoleAssignment.objects.get(user=officer_a)
    response = admin_client.post(
        reverse("admin:accounts_roleassignment_changelist"),
        {"action": "revoke", "_selected_action": [str(assignment.pk)]},
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None
    assert AuditEvent.objects.filter(action="accounts.role.revoked").exists()


def test_password_change_in_admin_is_audited(admin_client, officer_a):
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[officer_a.pk]),
        {"usable_password": "true", "password1": "Mat-khau-moi-2026-x", "password2": "Mat-khau-moi-2026-x"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="accounts.user.password_changed")
    assert event.after == {"login_enabled": True}


def test_org_unit_with_responsibility_is_audited(admin_client, tree):
    data = {
        "kind": OrgKind.PROVIDER,
        "name": "Bưu điện Châu Đốc",
        "short_name": "",
        "area": str(tree.district.pk),
        "active": "on",
        **inline_management("responsibilities", total=1),
        "responsibilities-0-function": "pay",
        "responsibilities-0-area": str(tree.district.pk),
    }
    response = admin_client.post(reverse("admin:accounts_orgunit_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AuditEvent.objects.filter(action="accounts.orgunit.created").exists()
    assert AuditEvent.objects.filter(action="accounts.responsibility.assigned").exists()


def test_api_tokens_are_read_only_and_revoked_through_the_service(admin_client, officer_a):
    token, _raw = create_api_token(actor=None, user=officer_a)
    body = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert token.key_hash in body
    assert 'name="key_hash"' not in body
    response = admin_client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [str(token.pk)]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="accounts.api_token.revoked", actor__username="root").exists()
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403


def test_audit_events_cannot_be_added_changed_or_deleted(admin_client, officer_a):
    create_api_token(actor=None, user=officer_a)
    event = AuditEvent.objects.first()
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert admin_client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    body = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()
    assert 'name="_save"' not in body


def test_area_admin_change_is_audited_and_tree_position_fixed(admin_client, tree):
    url = reverse("admin:areas_area_change", args=[tree.village_a.pk])
    body = admin_client.get(url).content.decode()
    assert 'name="parent"' not in body
    response = admin_client.post(
        url,
        {
            "code": "",
            "name": "Khóm Châu Long Một",
            "division_type": "",
            "valid_from": "",
            "valid_to": "",
            "source": "",
            **inline_management("children", total=0),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="areas.area.changed")
    assert event.before == {"name": "Khóm Châu Long 1"}
    assert event.area_path == tree.village_a.path


def test_non_staff_cannot_open_admin(client_for, officer_a):
    response = client_for(officer_a).get(reverse("admin:index"))
    assert response.status_code == 302


def test_delete_user_is_audited(admin_client, tree):
    user = User.objects.create_user(username="tam_thoi", password="x" * 12)
    response = admin_client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="tam_thoi").exists()
    assert AuditEvent.objects.filter(action="accounts.user.deleted", object_id=str(user.pk)).exists()


def test_area_autocomplete_for_assignments_ignores_accents(admin_client, tree):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "roleassignment", "field_name": "area", "term": "vinh my"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Phường Vĩnh Mỹ"]


# --- every admin write through a service: the services' rules hold in the admin too -------------


def test_a_user_with_history_cannot_be_deleted_in_the_admin(admin_client, officer_a):
    from django.utils import translation

    url = reverse("admin:accounts_user_delete", args=[officer_a.pk])
    with translation.override("vi"):
        refs = str(RoleAssignment._meta.verbose_name_plural)
    assert refs in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert User.objects.filter(pk=officer_a.pk).exists()
    assert RoleAssignment.objects.filter(user=officer_a).exists()
    assert not AuditEvent.objects.filter(action="accounts.user.deleted").exists()


def test_staff_without_superuser_rights_cannot_grant_them(client, officer_a):
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user(username="nhan_vien", password=None, is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="accounts"))
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    data = user_form(officer_a, is_staff="on", is_superuser="on", full_name="Đổi tên")
    data.update(inline_management(total=0, initial=0))
    response = client.post(reverse("admin:accounts_user_change", args=[officer_a.pk]), data)
    assert response.status_code in (302, 403), response.content.decode()[:2000]
    officer_a.refresh_from_db()
    assert not officer_a.is_superuser and not officer_a.is_staff
    assert not AuditEvent.objects.filter(action="accounts.user.changed", after__has_key="is_superuser").exists()


def test_an_assignment_cannot_be_moved_to_another_area_in_the_admin(admin_client, tree, officer_a):
    existing = RoleAssignment.objects.get(user=officer_a)
    data = user_form(officer_a)
    data.update(inline_management(total=1, initial=1))
    data.update(
        {
            "assignments-0-id": str(existing.pk),
            "assignments-0-user": str(officer_a.pk),
            "assignments-0-role": existing.role,
            "assignments-0-area": str(tree.b.pk),
        }
    )
    response = admin_client.post(reverse("admin:accounts_user_change", args=[officer_a.pk]), data)
    assert response.status_code == 200
    existing.refresh_from_db()
    assert existing.area == tree.a
    assert not AuditEvent.objects.filter(action__startswith="accounts.role.").exists()


def test_changing_an_assignments_end_date_in_the_admin_is_audited(admin_client, tree, officer_a):
    existing = RoleAssignment.objects.get(user=officer_a)
    data = user_form(officer_a)
    data.update(inline_management(total=1, initial=1))
    data.update(
        {
            "assignments-0-id": str(existing.pk),
            "assignments-0-user": str(officer_a.pk),
            "assignments-0-role": existing.role,
            "assignments-0-area": str(tree.a.pk),
            "assignments-0-valid_to": "2030-12-31",
        }
    )
    response = admin_client.post(reverse("admin:accounts_user_change", args=[officer_a.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="accounts.role.changed")
    assert (event.before, event.after) == ({"valid_to": None}, {"valid_to": "2030-12-31"})


def test_deleting_a_responsibility_in_force_ends_it(admin_client, tree):
    from datetime import date, timedelta

    from django.utils import timezone

    from ansinh.accounts.models import Responsibility
    from ansinh.accounts.services import assign_responsibility, create_org_unit

    unit = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name="Bưu điện", area=tree.district)
    resp = assign_responsibility(
        actor=None, org_unit=unit, area=tree.district, function="pay", valid_from=date(2025, 1, 1)
    )
    data = {
        "kind": unit.kind,
        "name": unit.name,
        "short_name": "",
        "area": str(tree.district.pk),
        "active": "on",
        **inline_management("responsibilities", total=1, initial=1),
        "responsibilities-0-id": str(resp.pk),
        "responsibilities-0-org_unit": str(unit.pk),
        "responsibilities-0-function": "pay",
        "responsibilities-0-area": str(tree.district.pk),
        "responsibilities-0-valid_from": "2025-01-01",
        "responsibilities-0-DELETE": "on",
    }
    response = admin_client.post(reverse("admin:accounts_orgunit_change", args=[unit.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    resp = Responsibility.objects.get(pk=resp.pk)
    assert resp.valid_to == timezone.localdate() - timedelta(days=1)
    event = AuditEvent.objects.get(action="accounts.responsibility.ended")
    assert event.actor.username == "root"

    # …and a unit that carried responsibilities is not deleted either
    response = admin_client.post(reverse("admin:accounts_orgunit_delete", args=[unit.pk]), {"post": "yes"})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="accounts.orgunit.deleted").exists()


def area_form(**values):
    data = {
        "tree": "legacy",
        "level": "commune",
        "code": "",
        "name": "",
        "division_type": "",
        "parent": "",
        "valid_from": "",
        "valid_to": "",
        "source": "",
        **inline_management("children", total=0),
    }
    data.update(values)
    return data


def test_area_added_in_the_admin_goes_through_the_service(admin_client, tree):
    from ansinh.areas.models import Area

    url = reverse("admin:areas_area_add")
    bad = admin_client.post(url, area_form(code="30999", name="Sai Chỗ", parent=str(tree.village_a.pk)))
    assert bad.status_code == 200  # a commune under a village: refused by the service's rule
    assert not Area.objects.filter(code="30999").exists()
    response = admin_client.post(
        url, area_form(code="30999", name="Núi Sam", division_type="Phường", parent=str(tree.district.pk))
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    area = Area.objects.get(code="30999")
    assert area.path == f"{tree.district.path}{area.pk}/"
    event = AuditEvent.objects.get(action="areas.area.created")
    assert event.actor.username == "root"
    assert event.after["name"] == "Núi Sam" and event.after["parent"] == tree.district.pk


def test_a_referenced_area_is_not_deleted_in_the_admin(admin_client, tree, officer_a):
    from ansinh.areas.models import Area

    response = admin_client.post(reverse("admin:areas_area_delete", args=[tree.a.pk]), {"post": "yes"})
    assert response.status_code == 200
    assert Area.objects.filter(pk=tree.a.pk).exists()
    assert not AuditEvent.objects.filter(action="areas.area.deleted").exists()


def test_group_edits_in_the_admin_are_audited(admin_client):
    from django.contrib.auth.models import Group, Permission

    perm = Permission.objects.get(codename="view_auditevent")
    response = admin_client.post(reverse("admin:auth_group_add"), {"name": "Xem nhật ký", "permissions": [perm.pk]})
    assert response.status_code == 302, response.content.decode()[:3000]
    group = Group.objects.get(name="Xem nhật ký")
    event = AuditEvent.objects.get(action="accounts.group.created")
    assert event.object_id == str(group.pk)
    assert event.after["permissions"] == ["audit.view_auditevent"]


def test_a_rule_only_the_service_checks_comes_back_as_a_message(admin_client, tree):
    from ansinh.areas.models import Area
    from ansinh.areas.services import create_village

    other = create_village(actor=None, commune=tree.a, name="Châu Long 2")
    url = reverse("admin:areas_area_change", args=[other.pk])
    data = area_form(name="Khóm Châu Long 1", code="", division_type="")
    for fixed in ("tree", "level", "parent"):
        data.pop(fixed)
    response = admin_client.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == url
    assert any("Khóm Châu Long 1" in str(m) for m in response.context["messages"])
    assert Area.objects.get(pk=other.pk).name == "Châu Long 2"
    assert not AuditEvent.objects.filter(action="areas.area.changed").exists()
