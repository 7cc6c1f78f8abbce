"""Direct tests of `ansinh.accounts.access`: which assignments count, how far down a role
reaches, the two area trees, `paths_with`, areas that are no area, and the system administrator
(who administers and reads everywhere but does no case work)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.models import RoleAssignment, User
from ansinh.accounts.roles import ADMINISTRATOR_CAPABILITIES, ROLE_CAPABILITIES, Cap, Role
from ansinh.accounts.services import assign_role, revoke_role
from ansinh.areas.models import Area, Level, Tree
from ansinh.registry.models import Beneficiary
from tests.conftest import make_user

ALL_CAPS = {value for name, value in vars(Cap).items() if name.isupper() and isinstance(value, str)}
# Case work: registering, correcting, importing, deciding, verifying identity, payroll, payments.
CASE_WORK = {
    Cap.REGISTRY_EDIT,
    Cap.REGISTRY_IMPORT,
    Cap.REGISTRY_DECIDE,
    Cap.IDENTITY_VERIFY,
    Cap.PAYROLL_PREPARE,
    Cap.PAYROLL_APPROVE,
    Cap.PAYMENTS_PROVIDE,
}


@pytest.fixture
def current(tree):
    """The same province in the tree in force since 2025-07-01: province 89 → commune, village."""
    province = Area.objects.create(
        tree=Tree.CURRENT, level=Level.PROVINCE, code="89", name="An Giang", division_type="Tỉnh"
    )
    commune = Area.objects.create(
        tree=Tree.CURRENT, level=Level.COMMUNE, code="30280", name="Châu Đốc", division_type="Phường", parent=province
    )
    village = Area.objects.create(
        tree=Tree.CURRENT, level=Level.VILLAGE, name="Khóm Châu Long 1", division_type="", parent=commune
    )
    return type("Current", (), {"province": province, "a": commune, "village_a": village})


def fresh(user: User) -> User:
    """The user as a new request would load it (no cached grants)."""
    return User.objects.get(pk=user.pk)


def everything_seen(user, cap=Cap.REGISTRY_VIEW) -> set[int]:
    return set(access.areas_for(user, cap).values_list("pk", flat=True))


# --- which assignments count -------------------------------------------------------------------


def test_an_active_assignment_grants_its_capabilities_on_its_area(tree, officer_a):
    assert access.capabilities(officer_a) == set(ROLE_CAPABILITIES[Role.COMMUNE_OFFICER])
    assert access.can_in_area(officer_a, Cap.REGISTRY_EDIT, tree.a)
    assert access.can_in_area(officer_a, Cap.REGISTRY_EDIT, tree.village_a)


def test_a_revoked_assignment_grants_nothing(tree, officer_a):
    revoke_role(actor=None, assignment=officer_a.assignments.get())
    for user in (officer_a, fresh(officer_a)):  # the service forgets the cached grants
        assert access.capabilities(user) == set()
        assert access.roles_of(user) == set()
        assert not access.can_in_area(user, Cap.REGISTRY_VIEW, tree.a)
        assert everything_seen(user) == set()
        assert access.top_areas(user) == []


@pytest.mark.parametrize(
    "valid_from, valid_to",
    [(None, -1), (-30, -1), (1, None), (1, 30)],
    ids=["expired", "expired-period", "not-yet-valid", "future-period"],
)
def test_an_assignment_outside_its_dates_grants_nothing(tree, valid_from, valid_to):
    today = timezone.localdate()
    user = make_user("dated", Role.COMMUNE_OFFICER, tree.a)
    user.assignments.update(
        valid_from=today + timedelta(days=valid_from) if valid_from is not None else None,
        valid_to=today + timedelta(days=valid_to) if valid_to is not None else None,
    )
    user = fresh(user)
    assert access.capabilities(user) == set()
    assert not access.can_in_area(user, Cap.REGISTRY_VIEW, tree.a)
    assert everything_seen(user) == set()


def test_an_assignment_holds_on_its_first_and_last_day(tree):
    today = timezone.localdate()
    user = make_user("dated", Role.COMMUNE_OFFICER, tree.a)
    user.assignments.update(valid_from=today, valid_to=today)
    assert access.can_in_area(fresh(user), Cap.REGISTRY_EDIT, tree.a)


def test_an_inactive_user_holds_nothing(tree, officer_a):
    officer_a.is_active = False
    officer_a.save()
    user = fresh(officer_a)
    assert access.capabilities(user) == set()
    assert everything_seen(user) == set()


def test_anonymous_holds_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert access.capabilities(anonymous) == set()
    assert not access.is_global(anonymous)
    assert not access.can_in_area(anonymous, Cap.AREAS_VIEW, tree.a)
    assert everything_seen(anonymous, Cap.AREAS_VIEW) == set()


# --- how far down a role reaches ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["province", "district"])
def test_a_role_on_a_province_or_district_covers_its_communes_and_villages(tree, where):
    monitor = make_user("monitor", Role.PROVINCE_MONITOR, getattr(tree, where))
    for area in (tree.a, tree.b, tree.village_a):
        assert access.can_in_area(monitor, Cap.REGISTRY_VIEW, area), area
    below = {tree.district.pk, tree.a.pk, tree.b.pk, tree.village_a.pk}
    assert everything_seen(monitor) == below | ({tree.province.pk} if where == "province" else set())
    assert [a.pk for a in access.top_areas(monitor, Cap.REGISTRY_VIEW)] == [getattr(tree, where).pk]


def test_a_role_on_a_commune_covers_its_villages_but_not_its_sibling_or_parent(tree, officer_a):
    assert everything_seen(officer_a) == {tree.a.pk, tree.village_a.pk}
    for outside in (tree.b, tree.district, tree.province):
        assert not access.can_in_area(officer_a, Cap.REGISTRY_VIEW, outside), outside
        assert not access.can_in_area(officer_a, Cap.REGISTRY_EDIT, outside), outside


def test_a_role_on_a_village_covers_only_that_village(tree):
    head = make_user("head", Role.VILLAGE_HEAD, tree.village_a)
    assert everything_seen(head) == {tree.village_a.pk}
    assert not access.can_in_area(head, Cap.REGISTRY_VIEW, tree.a)


def test_a_capability_holds_only_where_a_role_carrying_it_is_held(tree):
    """A monitor of the district who is also the officer of commune A edits in A only."""
    user = make_user("both", Role.PROVINCE_MONITOR, tree.district)
    assign_role(actor=None, user=user, role=Role.COMMUNE_OFFICER, area=tree.a)
    assert access.can_in_area(user, Cap.REGISTRY_VIEW, tree.b)
    assert access.can_in_area(user, Cap.REGISTRY_EDIT, tree.a)
    assert not access.can_in_area(user, Cap.REGISTRY_EDIT, tree.b)
    assert everything_seen(user, Cap.REGISTRY_EDIT) == {tree.a.pk, tree.village_a.pk}


def test_scope_limits_rows_by_their_copied_path(tree, officer_a, officer_b):
    in_a = Beneficiary(area_path=tree.village_a.path)
    in_b = Beneficiary(area_path=tree.b.path)
    q_a = access.area_q(officer_a, Cap.REGISTRY_VIEW, "area_path")
    q_b = access.area_q(officer_b, Cap.REGISTRY_VIEW, "area_path")
    assert q_a is not None and q_b is not None
    assert in_a.area_path.startswith(tree.a.path) and not in_b.area_path.startswith(tree.a.path)
    assert access.paths_with(officer_a, Cap.REGISTRY_VIEW) == [tree.a.path]
    assert access.paths_with(officer_b, Cap.REGISTRY_VIEW) == [tree.b.path]


def test_no_capability_means_an_empty_scope_not_everything(tree, viewer_a):
    assert access.paths_with(viewer_a, Cap.REGISTRY_EDIT) == []
    assert everything_seen(viewer_a, Cap.REGISTRY_EDIT) == set()
    assert access.scope(Area.objects.all(), viewer_a, Cap.REGISTRY_EDIT, "path").count() == 0


# --- the two area trees ------------------------------------------------------------------------


def test_a_role_in_the_legacy_tree_grants_nothing_in_the_current_tree(tree, current):
    monitor = make_user("monitor", Role.PROVINCE_MONITOR, tree.province)
    officer = make_user("officer", Role.COMMUNE_OFFICER, tree.a)
    for user in (monitor, officer):
        for area in (current.province, current.a, current.village_a):
            assert not access.can_in_area(user, Cap.REGISTRY_VIEW, area), (user, area)
        assert not everything_seen(user) & {current.province.pk, current.a.pk, current.village_a.pk}


def test_a_role_in_the_current_tree_grants_nothing_in_the_legacy_tree(tree, current):
    monitor = make_user("monitor", Role.PROVINCE_MONITOR, current.province)
    officer = make_user("officer", Role.COMMUNE_OFFICER, current.a)
    assert everything_seen(monitor) == {current.province.pk, current.a.pk, current.village_a.pk}
    assert everything_seen(officer) == {current.a.pk, current.village_a.pk}
    for user in (monitor, officer):
        for area in (tree.province, tree.district, tree.a, tree.village_a):
            assert not access.can_in_area(user, Cap.REGISTRY_VIEW, area), (user, area)


# --- paths_with --------------------------------------------------------------------------------


def test_paths_with_drops_paths_nested_in_another(tree):
    user = make_user("many", Role.PROVINCE_MONITOR, tree.district)
    for area in (tree.a, tree.b):
        assign_role(actor=None, user=user, role=Role.PROVINCE_MONITOR, area=area)
    assign_role(actor=None, user=user, role=Role.VILLAGE_HEAD, area=tree.village_a)
    assert access.paths_with(fresh(user), Cap.REGISTRY_VIEW) == [tree.district.path]


def test_paths_with_keeps_siblings_whose_ids_share_a_prefix(monkeypatch):
    """ "/1/" covers "/1/5/" but not "/12/": a path is a prefix only up to its closing slash."""
    grants = [
        (Role.COMMUNE_OFFICER, "/12/", 12),
        (Role.COMMUNE_OFFICER, "/1/5/", 5),
        (Role.COMMUNE_OFFICER, "/1/", 1),
        (Role.VILLAGE_HEAD, "/120/", 120),
        (Role.PROVIDER_STAFF, "/7/", 7),  # no registry.view
    ]
    monkeypatch.setattr(access, "_grants", lambda user: grants)
    assert access.paths_with(object(), Cap.REGISTRY_VIEW) == ["/1/", "/12/", "/120/"]
    assert access.paths_with(object(), Cap.REGISTRY_EDIT) == ["/1/", "/12/"]
    assert access.paths_with(object(), Cap.PAYMENTS_PROVIDE) == ["/7/"]


def test_paths_with_counts_the_same_area_once(tree):
    user = make_user("twice", Role.COMMUNE_OFFICER, tree.a)
    assign_role(actor=None, user=user, role=Role.COMMUNE_POLICE, area=tree.a)
    assert access.paths_with(fresh(user), Cap.REGISTRY_VIEW) == [tree.a.path]


# --- no area -----------------------------------------------------------------------------------


def test_no_area_is_for_no_one_with_an_area_role(tree, officer_a):
    monitor = make_user("monitor", Role.PROVINCE_MONITOR, tree.province)
    for user in (officer_a, monitor):
        for cap in (Cap.AREAS_VIEW, Cap.REGISTRY_VIEW, Cap.REGISTRY_EDIT):
            assert not access.can_in_area(user, cap, None), (user, cap)


def test_no_area_is_for_the_system_administrator_administering_only(db):
    root = User.objects.create_superuser(username="root", password=None)
    assert access.can_in_area(root, Cap.POLICY_MANAGE, None)
    assert access.can_in_area(root, Cap.AREAS_VIEW, None)
    for cap in CASE_WORK:
        assert not access.can_in_area(root, cap, None), cap


# --- the system administrator ------------------------------------------------------------------


def test_case_work_is_not_the_administrators():
    assert not CASE_WORK & ADMINISTRATOR_CAPABILITIES
    assert Cap.REGISTRY_VIEW_CCCD not in ADMINISTRATOR_CAPABILITIES
    assert {Cap.USERS_MANAGE, Cap.POLICY_MANAGE, Cap.REGISTRY_VIEW, Cap.AUDIT_VIEW} <= ADMINISTRATOR_CAPABILITIES
    assert ADMINISTRATOR_CAPABILITIES <= ALL_CAPS


def test_the_sysadmin_role_carries_exactly_the_administrators_capabilities():
    assert ROLE_CAPABILITIES[Role.SYSADMIN] == ADMINISTRATOR_CAPABILITIES


def test_a_superuser_administers_and_reads_everywhere(tree, current):
    root = User.objects.create_superuser(username="root", password=None)
    assert access.is_global(root)
    assert access.capabilities(root) == set(ADMINISTRATOR_CAPABILITIES)
    every_area = set(Area.objects.values_list("pk", flat=True))
    for cap in ADMINISTRATOR_CAPABILITIES:
        assert everything_seen(root, cap) == every_area, cap
        assert access.can_in_area(root, cap, current.village_a), cap
    assert {a.pk for a in access.top_areas(root)} == {tree.province.pk, current.province.pk}


@pytest.mark.parametrize("cap", sorted(ALL_CAPS - ADMINISTRATOR_CAPABILITIES))
def test_a_superuser_does_no_case_work(tree, cap):
    """Every capability not listed for the administrator, including ones added later."""
    root = User.objects.create_superuser(username="root", password=None)
    assert not access.has_cap(root, cap)
    assert not access.can_in_area(root, cap, tree.a)
    assert everything_seen(root, cap) == set()
    assert access.paths_with(root, cap) == []


def test_a_superuser_with_a_case_work_role_does_that_work_only_there(tree):
    """A role assigned explicitly still counts; being a superuser adds no case work elsewhere."""
    root = User.objects.create_superuser(username="root", password=None)
    RoleAssignment.objects.create(user=root, role=Role.COMMUNE_OFFICER, area=tree.a)
    assert access.can_in_area(root, Cap.REGISTRY_EDIT, tree.village_a)
    assert not access.can_in_area(root, Cap.REGISTRY_EDIT, tree.b)
    assert everything_seen(root, Cap.REGISTRY_EDIT) == {tree.a.pk, tree.village_a.pk}
    assert access.can_in_area(root, Cap.REGISTRY_VIEW, tree.b)


def test_an_inactive_superuser_is_not_the_administrator(db):
    root = User.objects.create_superuser(username="root", password=None)
    root.is_active = False
    assert not access.is_global(root)
    assert access.capabilities(root) == set()
