"""The 2025 reform transition: villages, people, representatives and roles move to the successor
communes; history stays; nothing widens; what cannot be placed is reported; re-runs are harmless."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from ansinh.accounts import access
from ansinh.accounts.models import RoleAssignment
from ansinh.accounts.roles import Cap, Role
from ansinh.areas.models import CURRENT_START, LEGACY_END, Area, AreaSuccession, Level, Share, Tree, VillageAssignment
from ansinh.audit.models import AuditEvent
from ansinh.reform import queries, services
from ansinh.registry.models import Beneficiary, Representative
from tests.conftest import make_user


def _area(tree, level, name, parent=None, code="", kind="Xã"):
    return Area.objects.create(tree=tree, level=level, name=name, code=code, division_type=kind, parent=parent)


def _person(name, commune, village=None):
    return Beneficiary.objects.create(
        full_name=name,
        birth_date=date(1940, 1, 1),
        gender="male",
        commune=commune,
        village=village,
        area_path=(village or commune).path,
        start_month=date(2023, 1, 1),
    )


@pytest.fixture
def reform(db):
    """Pre-2025: province 89 → district 884 → communes A (whole → X), B (split: seat → Y, part
    → X), C (no successor known). Current: province 91 → X, Y."""
    old = _area(Tree.LEGACY, Level.PROVINCE, "An Giang", code="89", kind="Tỉnh")
    district = _area(Tree.LEGACY, Level.DISTRICT, "Châu Đốc", old, "884", "Thành phố")
    a = _area(Tree.LEGACY, Level.COMMUNE, "Châu Phú A", district, "30319", "Phường")
    b = _area(Tree.LEGACY, Level.COMMUNE, "Vĩnh Châu", district, "30334")
    c = _area(Tree.LEGACY, Level.COMMUNE, "Không Rõ", district, "30399")
    for unit in (old, district, a, b, c):
        Area.objects.filter(pk=unit.pk).update(valid_to=LEGACY_END)
    new = _area(Tree.CURRENT, Level.PROVINCE, "An Giang", code="91", kind="Tỉnh")
    x = _area(Tree.CURRENT, Level.COMMUNE, "Châu Đốc", new, "30316", "Phường")
    y = _area(Tree.CURRENT, Level.COMMUNE, "Vĩnh Tế", new, "30325", "Phường")
    for unit in (new, x, y):
        Area.objects.filter(pk=unit.pk).update(valid_from=CURRENT_START)
    AreaSuccession.objects.create(legacy=a, successor=x, share=Share.WHOLE, seat=True)
    AreaSuccession.objects.create(legacy=b, successor=y, share=Share.PART, seat=True)
    AreaSuccession.objects.create(legacy=b, successor=x, share=Share.PART, seat=False)
    v_a = _area(Tree.LEGACY, Level.VILLAGE, "1", a, kind="Khóm")
    v_x = _area(Tree.CURRENT, Level.VILLAGE, "1", x, kind="Khóm")  # X already has a "Khóm 1"
    v_b1 = _area(Tree.LEGACY, Level.VILLAGE, "Vĩnh Thành", b, kind="Ấp")
    v_b2 = _area(Tree.LEGACY, Level.VILLAGE, "Vĩnh Phú", b, kind="Ấp")
    people = {
        "a_village": _person("Lê Văn A", a, v_a),
        "a_commune": _person("Lê Văn B", a),
        "b1": _person("Trần Thị C", b, v_b1),
        "b2": _person("Trần Thị D", b, v_b2),
        "b_commune": _person("Trần Thị E", b),
        "c": _person("Phạm Văn F", c),
    }
    rep = Representative.objects.create(full_name="Lê Thị G", commune=b, area_path=b.path)
    users = {
        "officer_a": make_user("officer_a", Role.COMMUNE_OFFICER, a),
        "officer_b": make_user("officer_b", Role.COMMUNE_OFFICER, b),
        "district": make_user("district", Role.OFFICE_OFFICER, district),
        "monitor": make_user("monitor", Role.PROVINCE_MONITOR, old),
        "head": make_user("head", Role.VILLAGE_HEAD, v_b1),
    }
    return type(
        "Reform",
        (),
        {
            "old": old,
            "district": district,
            "a": a,
            "b": b,
            "c": c,
            "new": new,
            "x": x,
            "y": y,
            "v_a": v_a,
            "v_x": v_x,
            "v_b1": v_b1,
            "v_b2": v_b2,
            "people": people,
            "rep": rep,
            "users": users,
        },
    )


def _fresh(obj):
    obj.refresh_from_db()
    return obj


def test_people_and_villages_move_to_the_successors_keeping_the_old_commune(reform):
    report = services.apply_transition(actor=None, province=reform.old)

    v_a = _fresh(reform.v_a)
    assert (v_a.parent_id, v_a.tree, v_a.valid_to) == (reform.x.pk, Tree.CURRENT, None)
    assert v_a.full_name == "Khóm 1 (Châu Phú A)"  # X had its own "Khóm 1"
    assert v_a.path.startswith(reform.x.path)
    p = {k: _fresh(b) for k, b in reform.people.items()}
    assert (p["a_village"].commune, p["a_village"].legacy_commune, p["a_village"].area_path) == (
        reform.x,
        reform.a,
        v_a.path,
    )
    assert (p["a_commune"].commune, p["a_commune"].area_path) == (reform.x, reform.x.path)
    # the split commune: its villages and people without a village go with the seat (Y) for now
    for key in ("b1", "b2", "b_commune"):
        assert p[key].commune == reform.y and p[key].legacy_commune == reform.b
        assert p[key].area_path.startswith(reform.y.path)
    assert _fresh(reform.rep).commune == reform.y and reform.rep.area_path == reform.y.path
    # nowhere to go: stays, reported
    assert p["c"].commune == reform.c and p["c"].legacy_commune is None
    assert report.communes_without_successor == ["30399 Xã Không Rõ"]
    assert sorted(report.villages_to_assign) == ["Ấp Vĩnh Phú (Xã Vĩnh Châu)", "Ấp Vĩnh Thành (Xã Vĩnh Châu)"]
    assert report.beneficiaries_moved == 5 and report.villages_moved == 3
    event = AuditEvent.objects.get(action=services.ACTION)
    assert event.after["beneficiaries_moved"] == 5


def test_roles_end_on_abolished_units_and_commune_roles_follow_without_widening(reform):
    services.apply_transition(actor=None, province=reform.old)
    users = reform.users
    today = date(2026, 1, 1)
    active = RoleAssignment.objects.active(on=today)

    # district and province roles end; nobody becomes a province user of the new tree
    assert not active.filter(user=users["district"]).exists()
    assert not active.filter(user=users["monitor"]).exists()
    assert not RoleAssignment.objects.filter(area__tree=Tree.CURRENT, area__level=Level.PROVINCE).exists()
    ended = RoleAssignment.objects.get(user=users["district"])
    assert ended.valid_to == LEGACY_END
    # commune roles move to the successor (a split commune's: to the seat), from 2025-07-01
    assert [(a.area, a.valid_from) for a in active.filter(user=users["officer_a"])] == [(reform.x, CURRENT_START)]
    assert [a.area for a in active.filter(user=users["officer_b"])] == [reform.y]
    assert RoleAssignment.objects.active(on=date(2024, 1, 1)).get(user=users["officer_a"]).area == reform.a
    # the village head keeps the village, which moved
    assert [a.area for a in active.filter(user=users["head"])] == [reform.v_b1]
    # officer A now sees X's people, not Y's
    for user in users.values():
        access.forget(user)
    visible = set(access.scope(Beneficiary.objects.all(), users["officer_a"], Cap.REGISTRY_VIEW, "area_path"))
    assert {b.full_name for b in visible} == {"Lê Văn A", "Lê Văn B"}


def test_a_second_run_changes_nothing_and_still_reports_what_is_unplaced(reform):
    services.apply_transition(actor=None, province=reform.old)
    paths = dict(Beneficiary.objects.values_list("pk", "area_path"))
    assignments = RoleAssignment.objects.count()
    again = services.apply_transition(actor=None, province=reform.old)
    assert not again.changed
    assert dict(Beneficiary.objects.values_list("pk", "area_path")) == paths
    assert RoleAssignment.objects.count() == assignments
    assert AuditEvent.objects.filter(action=services.ACTION).count() == 1
    assert len(again.villages_to_assign) == 2 and again.communes_without_successor


def test_an_officer_assigns_a_village_of_a_split_commune_and_its_people_follow(reform):
    services.apply_transition(actor=None, province=reform.old)
    officer_y = make_user("officer_y", Role.COMMUNE_OFFICER, reform.y)
    officer_x = make_user("officer_x", Role.COMMUNE_OFFICER, reform.x)
    pending = queries.villages_to_assign(officer_y)
    assert {a.village_id for a in pending} == {reform.v_b1.pk, reform.v_b2.pk}
    assert not queries.villages_to_assign(officer_x).exists()

    assignment = VillageAssignment.objects.get(village=reform.v_b2)
    with pytest.raises(ValidationError):
        services.assign_village(actor=officer_y, assignment=assignment, successor=reform.a)
    services.assign_village(actor=officer_y, assignment=assignment, successor=reform.x)
    village = _fresh(reform.v_b2)
    person = _fresh(reform.people["b2"])
    assert village.parent == reform.x and person.commune == reform.x and person.area_path == village.path
    assert person.legacy_commune == reform.b
    assert {a.village_id for a in queries.villages_to_assign(officer_y)} == {reform.v_b1.pk}
    assert AuditEvent.objects.filter(action="reform.village.assigned", actor=officer_y).count() == 1
    # a re-run keeps the officer's choice
    services.apply_transition(actor=None, province=reform.old)
    assert _fresh(reform.v_b2).parent == reform.x


def test_the_transition_needs_a_pre_2025_province(reform):
    with pytest.raises(ValidationError):
        services.apply_transition(actor=None, province=reform.new)


def test_the_assignment_page_lists_and_assigns(reform, client_for):
    services.apply_transition(actor=None, province=reform.old)
    officer_y = make_user("officer_y", Role.COMMUNE_OFFICER, reform.y)
    client = client_for(officer_y)
    page = client.get("/reform/villages/")
    assert page.status_code == 200 and "Vĩnh Thành" in page.content.decode()
    assignment = VillageAssignment.objects.get(village=reform.v_b1)
    response = client.post("/reform/villages/", {"assignment": assignment.pk, "successor": reform.x.pk})
    assert response.status_code == 302 and _fresh(reform.v_b1).parent == reform.x
    # the village head of a read-only role cannot assign
    head = client_for(reform.users["head"])
    assert head.post("/reform/villages/", {"assignment": assignment.pk, "successor": reform.y.pk}).status_code == 403


def test_the_seat_commune_page_points_to_the_villages_to_assign(reform, client_for):
    services.apply_transition(actor=None, province=reform.old)
    officer_y = make_user("officer_y", Role.COMMUNE_OFFICER, reform.y)
    page = client_for(officer_y).get(f"/areas/{reform.y.pk}/").content.decode()
    assert "data-villages-to-assign" in page and "/reform/villages/" in page
    officer_x = make_user("officer_x", Role.COMMUNE_OFFICER, reform.x)
    assert "data-villages-to-assign" not in client_for(officer_x).get(f"/areas/{reform.x.pk}/").content.decode()


def test_a_report_of_a_period_groups_by_the_commune_of_the_tree_valid_then(reform):
    services.apply_transition(actor=None, province=reform.old)
    moved = Beneficiary.objects.filter(pk=reform.people["b1"].pk)
    assert moved.values_list(queries.commune_on(date(2024, 12, 31)), flat=True).get() == reform.b.pk
    assert moved.values_list(queries.commune_on(date(2025, 7, 1)), flat=True).get() == reform.y.pk
    never_moved = Beneficiary.objects.filter(pk=reform.people["c"].pk)
    assert never_moved.values_list(queries.commune_on(date(2024, 12, 31)), flat=True).get() == reform.c.pk


def test_after_the_reform_an_officer_reads_the_history_of_the_communes_theirs_took_over(reform):
    """X took over A whole; Y holds the seat of split B: each reads the pre-2025 log of those,
    and nothing of the other's."""
    from ansinh.audit.models import AuditEvent
    from ansinh.audit.queries import events_for

    in_a = AuditEvent.objects.create(action="registry.beneficiary.created", area=reform.a, area_path=reform.a.path)
    in_b = AuditEvent.objects.create(action="registry.beneficiary.created", area=reform.b, area_path=reform.b.path)
    in_c = AuditEvent.objects.create(action="registry.beneficiary.created", area=reform.c, area_path=reform.c.path)
    officer_x = make_user("officer_x", Role.COMMUNE_OFFICER, reform.x)
    officer_y = make_user("officer_y", Role.COMMUNE_OFFICER, reform.y)
    assert set(events_for(officer_x).filter(pk__in=[in_a.pk, in_b.pk, in_c.pk])) == {in_a}
    assert set(events_for(officer_y).filter(pk__in=[in_a.pk, in_b.pk, in_c.pk])) == {in_b}
    monitor = make_user("monitor_new", Role.PROVINCE_MONITOR, reform.new)
    assert set(events_for(monitor).filter(pk__in=[in_a.pk, in_b.pk, in_c.pk])) == {in_a, in_b}
