"""Payment cycles of the pre-2025 (legacy) tree: a 2023 cycle of a pre-2025 district finds its
beneficiaries after the 2025 reform moved them to the current tree (by their pre-2025 commune),
its lines and change items carry the pre-2025 commune, a 2026 cycle of the current commune still
finds the same people, and the current-tree users who inherited the pre-2025 areas read them
(reading only; another province's user reads nothing)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ansinh.accounts.models import Function, OrgKind
from ansinh.accounts.roles import Role
from ansinh.accounts.services import assign_responsibility, create_org_unit
from ansinh.areas.models import CURRENT_START, LEGACY_END, Area, AreaSuccession, Level, Share, Tree
from ansinh.areas.queries import inherited_legacy_paths
from ansinh.payroll import changelists, queries
from ansinh.payroll.generation import compare_with_previous, generate_payroll
from ansinh.payroll.models import ChangeItem, ChangeKind, ChangeList, PaymentCycle, PayrollLine
from ansinh.payroll.scope import beneficiary_in_cycle_q, is_legacy
from ansinh.payroll.services import TransitionForbidden, open_cycles
from ansinh.policy.entitlement import Claim, monthly_entitlement
from ansinh.policy.models import Category
from ansinh.reform.services import apply_transition
from ansinh.registry.models import Beneficiary, BeneficiaryCategory
from tests.conftest import make_user
from tests.payroll.conftest import appraise

M2023 = date(2023, 8, 1)  # the pilot: the district labour office approves
JUNE_2025, JULY_2025 = date(2025, 6, 1), date(2025, 7, 1)
M2026 = date(2026, 3, 1)
CODE = "D20.5.5.c"  # 80 and over without a pension: coefficient 1.0 of the standard level


def _area(tree, level, name, parent=None, code="", kind="Phường"):
    area = Area.objects.create(tree=tree, level=level, name=name, code=code, division_type=kind, parent=parent)
    if tree == Tree.LEGACY:
        Area.objects.filter(pk=area.pk).update(valid_to=LEGACY_END)
        area.valid_to = LEGACY_END
    elif level != Level.VILLAGE:
        Area.objects.filter(pk=area.pk).update(valid_from=CURRENT_START)
        area.valid_from = CURRENT_START
    return area


def _person(name, commune, start=date(2023, 1, 1), claim_from=None, village=None):
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=date(1938, 4, 2),
        gender="female",
        commune=commune,
        village=village,
        area_path=(village or commune).path,
        start_month=start,
    )
    category = Category.objects.get(code=CODE)
    BeneficiaryCategory.objects.create(beneficiary=b, category=category, from_month=claim_from or start)
    return b


@pytest.fixture
def legacy(db, policy):
    """Pre-2025: province An Giang (89) → district Châu Đốc (884) → communes A (whole → X) and
    B (split: seat → Y, part → X); district Tịnh Biên (890) → commune D (whole → Y).
    Current: An Giang (91) → X, Y; another province (92) → Z. People registered in A, B, D
    before the reform, moved by the reform transition; one registered in X after it."""
    old = _area(Tree.LEGACY, Level.PROVINCE, "An Giang", code="89", kind="Tỉnh")
    chau_doc = _area(Tree.LEGACY, Level.DISTRICT, "Châu Đốc", old, "884", "Thành phố")
    tinh_bien = _area(Tree.LEGACY, Level.DISTRICT, "Tịnh Biên", old, "890", "Thị xã")
    a = _area(Tree.LEGACY, Level.COMMUNE, "Châu Phú A", chau_doc, "30280")
    b = _area(Tree.LEGACY, Level.COMMUNE, "Vĩnh Mỹ", chau_doc, "30283")
    d = _area(Tree.LEGACY, Level.COMMUNE, "Nhà Bàng", tinh_bien, "30316", "Thị trấn")
    v_a = _area(Tree.LEGACY, Level.VILLAGE, "Châu Long 1", a, kind="Khóm")
    new = _area(Tree.CURRENT, Level.PROVINCE, "An Giang", code="91", kind="Tỉnh")
    x = _area(Tree.CURRENT, Level.COMMUNE, "Châu Đốc", new, "30300")
    y = _area(Tree.CURRENT, Level.COMMUNE, "Vĩnh Tế", new, "30301")
    other = _area(Tree.CURRENT, Level.PROVINCE, "Cần Thơ", code="92", kind="Thành phố")
    z = _area(Tree.CURRENT, Level.COMMUNE, "Ninh Kiều", other, "31000")
    AreaSuccession.objects.create(legacy=a, successor=x, share=Share.WHOLE, seat=True)
    AreaSuccession.objects.create(legacy=b, successor=y, share=Share.PART, seat=True)
    AreaSuccession.objects.create(legacy=b, successor=x, share=Share.PART, seat=False)
    AreaSuccession.objects.create(legacy=d, successor=y, share=Share.WHOLE, seat=True)
    office = create_org_unit(
        actor=None, kind=OrgKind.APPROVING_OFFICE, name="Phòng LĐTBXH thành phố Châu Đốc", area=chau_doc
    )
    assign_responsibility(actor=None, org_unit=office, area=chau_doc, function=Function.APPROVE)
    ward = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND phường Châu Đốc", area=x)
    assign_responsibility(actor=None, org_unit=ward, area=x, function=Function.APPROVE, valid_from=CURRENT_START)
    people = {
        "a1": _person("Nguyễn Thị Lành", a, village=v_a),
        "a2": _person("Trần Văn Tư", a, claim_from=M2023),  # a claim starting in August 2023
        "b1": _person("Lê Thị Hoa", b, claim_from=M2023),
        "d1": _person("Phạm Văn Năm", d),  # Tịnh Biên: not of the Châu Đốc cycle
    }
    report = apply_transition(actor=None, province=old)
    assert report.beneficiaries_moved == 4
    people["x_new"] = _person("Đỗ Thị Mới", x, start=date(2025, 8, 1))  # registered after the reform
    for p in people.values():
        p.refresh_from_db()
    assert (people["a1"].commune, people["a1"].legacy_commune) == (x, a)
    assert (people["b1"].commune, people["b1"].legacy_commune) == (y, b)
    return type(
        "Legacy",
        (),
        {
            "old": old,
            "chau_doc": chau_doc,
            "tinh_bien": tinh_bien,
            "a": a,
            "b": b,
            "d": d,
            "new": new,
            "x": x,
            "y": y,
            "other": other,
            "z": z,
            "office": office,
            "ward": ward,
            "people": people,
        },
    )


def _cycle(month, area) -> PaymentCycle:
    open_cycles(actor=None, month=month, area=area)
    programme_id = Category.objects.get(code=CODE).programme_id
    return PaymentCycle.objects.select_related("area").get(month=month, area=area, programme_id=programme_id)


def _expected(b: Beneficiary, month: date, province: Area) -> int:
    e = monthly_entitlement(claims=[Claim(category_code=CODE)], month=month, birth_date=b.birth_date, province=province)
    assert e is not None
    return e.amount


def test_a_2023_district_cycle_pays_the_people_of_its_pre_2025_communes(legacy):
    people = legacy.people
    cycle = _cycle(M2023, legacy.chau_doc)
    assert is_legacy(cycle)
    appraise(cycle)
    # one change list per pre-2025 commune of the district, items attributed to the pre-2025 commune
    lists = {cl.commune_id: cl for cl in ChangeList.objects.filter(cycle=cycle)}
    assert set(lists) == {legacy.a.pk, legacy.b.pk}
    assert {cl.area_path for cl in lists.values()} == {legacy.a.path, legacy.b.path}
    items = {
        (i.change_list.commune_id, i.beneficiary_id, i.kind, i.amount_after)
        for i in ChangeItem.objects.filter(change_list__cycle=cycle).select_related("change_list")
    }
    assert items == {
        (legacy.a.pk, people["a2"].pk, ChangeKind.ADJUSTED, 360_000),
        (legacy.b.pk, people["b1"].pk, ChangeKind.ADJUSTED, 360_000),
    }

    summary = generate_payroll(actor=None, cycle=cycle)

    lines = {ln.beneficiary_id: ln for ln in PayrollLine.objects.filter(cycle=cycle)}
    assert set(lines) == {people["a1"].pk, people["a2"].pk, people["b1"].pk}  # not d1, not x_new
    for key, commune in (("a1", legacy.a), ("a2", legacy.a), ("b1", legacy.b)):
        line = lines[people[key].pk]
        # the 2023 standard level (360,000 đồng from 2021-07-01) × 1.0, the pre-2025 province's policy
        assert line.amount == 360_000 == _expected(people[key], M2023, legacy.old)
        assert (line.commune_id, line.area_path) == (commune.pk, commune.path)
    assert summary["lines"] == 3 and summary["total_amount"] == 1_080_000
    # a re-generation of the draft changes nothing
    generate_payroll(actor=None, cycle=cycle)
    again = sorted(PayrollLine.objects.filter(cycle=cycle).values_list("beneficiary_id", "amount", "commune_id"))
    assert again == sorted((b, ln.amount, ln.commune_id) for b, ln in lines.items())


def test_the_orm_scope_and_the_sql_scope_agree(legacy):
    people = legacy.people
    cycle = _cycle(M2023, legacy.chau_doc)
    found = set(Beneficiary.objects.filter(beneficiary_in_cycle_q(cycle)).values_list("pk", flat=True))
    assert found == {people["a1"].pk, people["a2"].pk, people["b1"].pk}
    commune_cycle = PaymentCycle(area=legacy.a, area_path=legacy.a.path)
    assert set(Beneficiary.objects.filter(beneficiary_in_cycle_q(commune_cycle)).values_list("pk", flat=True)) == {
        people["a1"].pk,
        people["a2"].pk,
    }
    current = PaymentCycle(area=legacy.x, area_path=legacy.x.path)
    assert set(Beneficiary.objects.filter(beneficiary_in_cycle_q(current)).values_list("pk", flat=True)) == {
        people["a1"].pk,
        people["a2"].pk,
        people["x_new"].pk,
    }


def test_a_2026_cycle_of_the_current_commune_still_finds_them(legacy):
    people = legacy.people
    cycle = _cycle(M2026, legacy.x)
    assert not is_legacy(cycle)
    appraise(cycle)
    assert list(ChangeList.objects.filter(cycle=cycle).values_list("commune_id", flat=True)) == [legacy.x.pk]
    generate_payroll(actor=None, cycle=cycle)
    lines = {ln.beneficiary_id: ln for ln in PayrollLine.objects.filter(cycle=cycle)}
    assert set(lines) == {people["a1"].pk, people["a2"].pk, people["x_new"].pk}  # b1 went to Y with B's seat
    for key in ("a1", "a2", "x_new"):
        line = lines[people[key].pk]
        assert line.amount == 500_000 == _expected(people[key], M2026, legacy.new)
        assert line.commune_id == legacy.x.pk and line.area_path == people[key].area_path
    assert lines[people["a1"].pk].area_path.startswith(legacy.x.path)  # its village moved to X


def test_july_2025_compares_with_the_june_lines_of_the_pre_2025_district(legacy):
    people = legacy.people
    june = _cycle(JUNE_2025, legacy.chau_doc)
    appraise(june)
    generate_payroll(actor=None, cycle=june)
    assert PayrollLine.objects.filter(cycle=june).count() == 3
    july = _cycle(JULY_2025, legacy.x)
    appraise(july)
    generate_payroll(actor=None, cycle=july)
    comparison = compare_with_previous(july)
    # a1 and a2 were paid in June by the district's cycle (lines of commune A): nobody is new
    assert comparison["previous_lines"] == 2 and comparison["lines"] == 2
    assert comparison["counts"] == {
        "added": 0,
        "removed": 0,
        "amount_changed": 0,
        "payee_changed": 0,
        "channel_changed": 0,
    }
    assert {ln.beneficiary_id for ln in PayrollLine.objects.filter(cycle=july)} == {people["a1"].pk, people["a2"].pk}


def test_inherited_pre_2025_areas(legacy):
    assert inherited_legacy_paths([legacy.new.path]) == [legacy.old.path]  # every commune went into 91
    assert inherited_legacy_paths([legacy.x.path]) == [legacy.a.path]  # B is split between X and Y
    assert inherited_legacy_paths([legacy.y.path]) == [legacy.tinh_bien.path]  # D, the district's only commune
    assert inherited_legacy_paths([legacy.x.path, legacy.y.path]) == [legacy.old.path]
    assert inherited_legacy_paths([legacy.other.path]) == []
    assert inherited_legacy_paths([legacy.chau_doc.path]) == []  # a pre-2025 area inherits nothing


@pytest.fixture
def generated_2023(legacy):
    cycle = _cycle(M2023, legacy.chau_doc)
    appraise(cycle)
    generate_payroll(actor=None, cycle=cycle)
    return cycle


def test_the_current_province_reads_the_2023_cycle_and_cannot_act_on_it(legacy, generated_2023):
    province = make_user("so_an_giang", Role.OFFICE_OFFICER, legacy.new)
    assert generated_2023 in queries.cycles_for(province)
    lists = set(changelists.lists_for(province).filter(cycle=generated_2023).values_list("commune_id", flat=True))
    assert lists == {legacy.a.pk, legacy.b.pk}
    assert queries.lines_for(province).filter(cycle=generated_2023).count() == 3
    assert queries.sensitive_visible(province, generated_2023)
    # reading only: the office of today does not prepare the 2023 payroll
    with pytest.raises(TransitionForbidden):
        generate_payroll(actor=province, cycle=generated_2023)


def test_a_commune_officer_reads_the_pre_2025_commune_that_went_wholly_into_theirs(legacy, generated_2023):
    officer_x = make_user("can_bo_x", Role.COMMUNE_OFFICER, legacy.x)
    assert generated_2023 not in queries.cycles_for(officer_x)  # the district's cycle, split among X and Y
    lists = changelists.lists_for(officer_x).filter(cycle=generated_2023)
    assert list(lists.values_list("commune_id", flat=True)) == [legacy.a.pk]
    lines = queries.lines_for(officer_x).filter(cycle=generated_2023)
    assert set(lines.values_list("beneficiary_id", flat=True)) == {
        legacy.people["a1"].pk,
        legacy.people["a2"].pk,
    }
    officer_y = make_user("can_bo_y", Role.COMMUNE_OFFICER, legacy.y)
    assert not changelists.lists_for(officer_y).filter(cycle=generated_2023).exists()  # B went only in part to Y
    assert not queries.lines_for(officer_y).filter(cycle=generated_2023).exists()


def test_another_province_reads_nothing(legacy, generated_2023):
    stranger = make_user("so_can_tho", Role.OFFICE_OFFICER, legacy.other)
    assert not queries.cycles_for(stranger).exists()
    assert not changelists.lists_for(stranger).exists()
    assert not queries.lines_for(stranger).exists()


def test_pages_and_api_use_the_same_scope(legacy, generated_2023, client_for, api_client_for):
    province = make_user("so_an_giang", Role.PROVINCE_MONITOR, legacy.new)
    officer_x = make_user("can_bo_x", Role.COMMUNE_OFFICER, legacy.x)
    stranger = make_user("so_can_tho", Role.PROVINCE_MONITOR, legacy.other)
    list_a = ChangeList.objects.get(cycle=generated_2023, commune=legacy.a)
    list_b = ChangeList.objects.get(cycle=generated_2023, commune=legacy.b)
    cycle_url = reverse("payroll:cycle", args=[generated_2023.pk])

    page = client_for(province).get(cycle_url)
    assert page.status_code == 200 and "Lê Thị Hoa" in page.content.decode()
    assert client_for(province).get(reverse("payroll:change_list", args=[list_b.pk])).status_code == 200
    assert client_for(officer_x).get(cycle_url).status_code == 404
    assert client_for(officer_x).get(reverse("payroll:change_list", args=[list_a.pk])).status_code == 200
    assert client_for(officer_x).get(reverse("payroll:change_list", args=[list_b.pk])).status_code == 404
    mine = client_for(officer_x).get(reverse("payroll:change_lists")).content.decode()
    assert reverse("payroll:change_list", args=[list_a.pk]) in mine
    assert client_for(stranger).get(cycle_url).status_code == 404

    api = api_client_for(province)
    assert api.get(f"/api/v1/payroll/cycles/{generated_2023.pk}").status_code == 200
    listed = api.get(f"/api/v1/payroll/cycles/{generated_2023.pk}/lines").json()["items"]
    assert {(i["commune_id"], i["amount"]) for i in listed} == {(legacy.a.pk, 360_000), (legacy.b.pk, 360_000)}
    assert api_client_for(officer_x).get(f"/api/v1/payroll/cycles/{generated_2023.pk}").status_code == 404
    assert api_client_for(officer_x).get(f"/api/v1/payroll/change-lists/{list_a.pk}").status_code == 200
    assert api_client_for(stranger).get(f"/api/v1/payroll/cycles/{generated_2023.pk}").status_code == 404


def test_the_read_scope_costs_a_few_queries_per_request(legacy, generated_2023):
    from ansinh.accounts.models import User

    make_user("so_an_giang", Role.OFFICE_OFFICER, legacy.new)
    user = User.objects.get(username="so_an_giang")  # a fresh object: nothing cached
    with CaptureQueriesContext(connection) as ctx:
        assert len(list(queries.cycles_for(user))) == 3  # the 2023 cycles of the three programmes
        assert len(list(changelists.lists_for(user))) == 2
        assert queries.lines_for(user).count() == 3
        queries.sensitive_visible(user, generated_2023)
    # the roles, the successions, the pre-2025 communes, then one query per read
    assert len(ctx.captured_queries) <= 6, [q["sql"] for q in ctx.captured_queries]
