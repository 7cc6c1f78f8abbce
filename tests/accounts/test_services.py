"""Writes to users, role assignments, organisation units and responsibilities: each through a
service, audited with before/after; anything referenced is revoked or ended, not deleted."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ansinh.accounts import services
from ansinh.accounts.models import Function, OrgKind, OrgUnit, Responsibility, RoleAssignment, User
from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent


@pytest.fixture
def root(db):
    return User.objects.create_superuser(username="root", password=None)


@pytest.fixture
def staff(db):
    return User.objects.create_user(username="staff", password=None, is_staff=True)


def test_update_user_records_only_what_changed(root, officer_a):
    services.update_user(actor=root, user=officer_a, changes={"full_name": "Trần Thị A", "email": ""})
    officer_a.refresh_from_db()
    assert officer_a.full_name == "Trần Thị A"
    event = AuditEvent.objects.get(action="accounts.user.changed")
    assert (event.before, event.after, event.actor) == ({"full_name": "Officer A"}, {"full_name": "Trần Thị A"}, root)
    services.update_user(actor=root, user=officer_a, changes={"full_name": "Trần Thị A"})
    assert AuditEvent.objects.filter(action="accounts.user.changed").count() == 1


def test_groups_and_permissions_are_part_of_the_user_change(root, officer_a):
    group = Group.objects.create(name="Quản trị chính sách")
    perm = Permission.objects.get(codename="view_auditevent")
    services.update_user(actor=root, user=officer_a, changes={}, groups=[group], user_permissions=[perm])
    event = AuditEvent.objects.get(action="accounts.user.changed")
    assert event.before == {"groups": [], "user_permissions": []}
    assert event.after == {"groups": ["Quản trị chính sách"], "user_permissions": ["view_auditevent"]}


def test_only_a_superuser_changes_privileges(staff, officer_a):
    for changes in ({"is_superuser": True}, {"is_staff": True}):
        with pytest.raises(PermissionDenied):
            services.update_user(actor=staff, user=officer_a, changes=changes)
    with pytest.raises(PermissionDenied):
        services.update_user(actor=staff, user=staff, changes={}, user_permissions=list(Permission.objects.all()))
    officer_a.refresh_from_db()
    assert not officer_a.is_superuser and not officer_a.is_staff
    services.update_user(actor=staff, user=officer_a, changes={"phone": "0912345678"})  # not a privilege
    assert not AuditEvent.objects.filter(action="accounts.user.changed", after__has_key="is_superuser").exists()


def test_unknown_user_fields_are_refused(root, officer_a):
    with pytest.raises(ValueError):
        services.update_user(actor=root, user=officer_a, changes={"password": "x"})


def test_password_change_is_audited_without_the_password(root, officer_a):
    services.set_user_password(actor=root, user=officer_a, password="Mat-khau-moi-2026-x")
    officer_a.refresh_from_db()
    assert officer_a.check_password("Mat-khau-moi-2026-x")
    services.set_user_password(actor=root, user=officer_a, password=None)
    officer_a.refresh_from_db()
    assert not officer_a.has_usable_password()
    events = AuditEvent.objects.filter(action="accounts.user.password_changed").order_by("id")
    assert [e.after for e in events] == [{"login_enabled": True}, {"login_enabled": False}]


def test_a_user_with_history_is_not_deleted(root, officer_a):
    with pytest.raises(ValidationError):
        services.delete_user(actor=root, user=officer_a)  # holds a role assignment
    assert User.objects.filter(pk=officer_a.pk).exists()
    fresh = User.objects.create_user(username="tam_thoi", password=None)
    services.delete_user(actor=root, user=fresh)
    assert not User.objects.filter(username="tam_thoi").exists()
    event = AuditEvent.objects.get(action="accounts.user.deleted")
    assert event.before["username"] == "tam_thoi"


def test_an_assignment_keeps_its_role_and_area(root, tree, officer_a):
    assignment = RoleAssignment.objects.get(user=officer_a)
    with pytest.raises(ValidationError):
        services.change_role_assignment(
            actor=root, assignment=assignment, role=Role.APPROVER, area=tree.a, valid_to=None
        )
    with pytest.raises(ValidationError):
        services.change_role_assignment(actor=root, assignment=assignment, role=assignment.role, area=tree.b)
    end = timezone.localdate() + timedelta(days=30)
    services.change_role_assignment(actor=root, assignment=assignment, role=assignment.role, area=tree.a, valid_to=end)
    assignment.refresh_from_db()
    assert assignment.valid_to == end and assignment.role == Role.COMMUNE_OFFICER
    event = AuditEvent.objects.get(action="accounts.role.changed")
    assert (event.before, event.after) == ({"valid_to": None}, {"valid_to": end.isoformat()})
    assert event.area_path == tree.a.path


def test_org_unit_change_and_refused_delete(root, tree):
    unit = services.create_org_unit(actor=root, kind=OrgKind.PROVIDER, name="Bưu điện", area=tree.district)
    services.assign_responsibility(actor=root, org_unit=unit, area=tree.district, function=Function.PAY)
    services.change_org_unit(
        actor=root, unit=unit, kind=unit.kind, name="Bưu điện Châu Đốc", short_name="BĐ", area=unit.area, active=True
    )
    event = AuditEvent.objects.get(action="accounts.orgunit.changed")
    assert event.before == {"name": "Bưu điện", "short_name": ""}
    assert event.after == {"name": "Bưu điện Châu Đốc", "short_name": "BĐ"}
    with pytest.raises(ValidationError):
        services.delete_org_unit(actor=root, unit=unit)  # it has a responsibility
    assert OrgUnit.objects.filter(pk=unit.pk).exists()


def test_a_responsibility_in_force_is_ended_not_deleted(root, tree):
    unit = services.create_org_unit(actor=root, kind=OrgKind.PROVIDER, name="Bưu điện", area=tree.district)
    today = timezone.localdate()
    running = services.assign_responsibility(
        actor=root, org_unit=unit, area=tree.district, function=Function.PAY, valid_from=date(2025, 1, 1)
    )
    future = services.assign_responsibility(
        actor=root, org_unit=unit, area=tree.a, function=Function.PAY, valid_from=today + timedelta(days=10)
    )
    services.end_responsibility(actor=root, responsibility=running)
    running.refresh_from_db()
    assert running.valid_to == today - timedelta(days=1)
    assert AuditEvent.objects.get(action="accounts.responsibility.ended").after == {
        "valid_to": running.valid_to.isoformat()
    }
    services.end_responsibility(actor=root, responsibility=future)  # never in force: removed
    assert not Responsibility.objects.filter(pk=future.pk).exists()
    assert AuditEvent.objects.filter(action="accounts.responsibility.deleted").count() == 1


def test_responsibility_change_is_audited(root, tree):
    unit = services.create_org_unit(actor=root, kind=OrgKind.PROVIDER, name="Bưu điện", area=tree.district)
    resp = services.assign_responsibility(actor=root, org_unit=unit, area=tree.district, function=Function.PAY)
    services.change_responsibility(
        actor=root, responsibility=resp, area=tree.district, function=Function.PAY, valid_to=date(2030, 12, 31)
    )
    event = AuditEvent.objects.get(action="accounts.responsibility.changed")
    assert (event.before, event.after) == ({"valid_to": None}, {"valid_to": "2030-12-31"})


def test_groups_are_saved_and_deleted_through_services(root, officer_a):
    group = services.save_group(
        actor=root, group=Group(name="Xem nhật ký"), permissions=[Permission.objects.get(codename="view_auditevent")]
    )
    event = AuditEvent.objects.get(action="accounts.group.created")
    assert event.after == {"name": "Xem nhật ký", "permissions": ["audit.view_auditevent"]}
    group.user_set.add(officer_a)
    with pytest.raises(ValidationError):
        services.delete_group(actor=root, group=group)  # it has members
    group.user_set.remove(officer_a)
    services.delete_group(actor=root, group=group)
    assert AuditEvent.objects.filter(action="accounts.group.deleted").exists()
