"""The registry review before money flows (issue 7): one test per finding, each of which failed
on the code before the fix. The rules live in the services/rules layer, so each finding is
checked on every path it was reachable from (service, import, API)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from ansinh.areas.models import Area, Level, Tree
from ansinh.audit.models import AuditEvent
from ansinh.registry import services
from ansinh.registry.importing import apply_plan, check_file
from ansinh.registry.inputs import CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Decision, DecisionKind, Representative, Status
from tests.factories import cccd_for, import_xlsx
from tests.factories import import_row as row

REP_BIRTH = date(1975, 2, 2)
REP_CCCD = cccd_for(REP_BIRTH, "male", "555555")


def rep_input(**person) -> RepresentationInput:
    values = {
        "full_name": "Lê Văn Tư",
        "birth_date": REP_BIRTH,
        "gender": "male",
        "cccd": REP_CCCD,
        "phone": "0987654321",
    } | person
    return RepresentationInput(person=PersonInput(**values), kind="authorised", relationship="Con")


def died(b, officer, when=date(2025, 3, 14)):
    return services.record_decision(
        actor=officer,
        beneficiary=b,
        kind=DecisionKind.STOP,
        number="20/QĐ-UBND",
        signed_on=date(2025, 4, 2),
        reason="died",
        death_date=when,
    )


def import_file(tmp_path, rows, commune, actor):
    path = import_xlsx(rows, tmp_path / "list.xlsx")
    plan = check_file(path, commune=commune)
    return plan, apply_plan(actor=actor, plan=plan, commune=commune)


def person_row(b: Beneficiary, **extra) -> list:
    values = {
        "full_name": b.full_name,
        "birth_date": b.birth_date.strftime("%d/%m/%Y"),
        "gender": "Nữ" if b.gender == "female" else "Nam",
        "cccd": b.cccd,
        "phone": "0912345678",
        "village": "Khóm Châu Long 1",
        "category": "D20.5.5.c",
        "decision_number": "15/QĐ-UBND",
        "decision_date": "12/03/2024",
    } | extra
    return row(**values)


# --- 1. a dead person does not come back ------------------------------------------------------


def test_reimporting_an_old_list_after_a_death_reports_the_row_and_creates_nobody(
    tmp_path, make_input, officer_a, tree
):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    died(b, officer_a)
    plan, result = import_file(tmp_path, [person_row(b)], tree.a, officer_a)
    assert result == {"created": 0, "updated": 0, "unchanged": 0}
    assert [e.row for e in plan.errors] == [2]
    assert "dừng" in plan.errors[0].message or "stopped" in plan.errors[0].message
    assert Beneficiary.objects.filter(cccd=b.cccd).count() == 1
    assert Beneficiary.objects.get(cccd=b.cccd).status == Status.STOPPED


def test_a_dead_person_without_cccd_is_matched_by_name_and_birth_date(tmp_path, make_input, officer_a, tree):
    b = services.create_beneficiary(actor=officer_a, data=make_input(cccd=""))
    died(b, officer_a)
    plan, result = import_file(tmp_path, [person_row(b, cccd="")], tree.a, officer_a)
    assert result["created"] == 0 and [e.row for e in plan.errors] == [2]
    assert Beneficiary.objects.count() == 1
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=make_input(cccd=""), accept_duplicate=True)
    assert "full_name" in exc.value.message_dict


def test_registering_the_cccd_of_a_dead_person_again_is_refused(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    died(b, officer_a)
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=make_input(), accept_duplicate=True)
    assert "cccd" in exc.value.message_dict
    assert Beneficiary.objects.count() == 1


def test_a_dead_person_cannot_be_restarted(make_input, officer_a):
    from ansinh.core.errors import InvalidTransition

    b = services.create_beneficiary(actor=officer_a, data=make_input())
    died(b, officer_a)
    with pytest.raises(InvalidTransition):
        services.record_decision(
            actor=officer_a, beneficiary=b, kind=DecisionKind.START, number="30/QĐ", signed_on=date(2025, 6, 1)
        )


# --- 2. a person record is not another commune's to edit --------------------------------------

SAU_BIRTH = date(1939, 9, 9)
SAU_CCCD = cccd_for(SAU_BIRTH, "male", "424242")


def in_b(make_input, tree, **extra):
    """A man of commune B (who may be represented by commune A's person)."""
    values = {"full_name": "Phạm Văn Sáu", "gender": "male", "birth_date": SAU_BIRTH, "cccd": SAU_CCCD}
    return make_input(**(values | {"commune_id": tree.b.pk, "village_id": None} | extra))


@pytest.fixture
def rep_in_a(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input(representatives=[rep_input()]))
    return Representative.objects.get(cccd=REP_CCCD), b


def test_another_commune_links_a_known_representative_without_overwriting(rep_in_a, make_input, officer_b, tree):
    rep, _b = rep_in_a
    before = (rep.full_name, rep.birth_date, rep.gender, rep.phone)
    other = services.create_beneficiary(actor=officer_b, data=in_b(make_input, tree))
    link = services.add_representation(
        actor=officer_b,
        beneficiary=other,
        data=rep_input(birth_date=date(1975, 6, 6), phone="0911111111", gender="male"),
    )
    rep.refresh_from_db()
    assert link.representative_id == rep.pk
    assert (rep.full_name, rep.birth_date, rep.gender, rep.phone) == before
    assert not AuditEvent.objects.filter(action="registry.representative.updated").exists()


def test_a_known_cccd_under_another_name_is_refused_on_every_path(rep_in_a, make_input, officer_b, tree, tmp_path):
    rep, _b = rep_in_a
    data = in_b(make_input, tree, representatives=[rep_input(full_name="Đỗ Thị Bảy", gender="female")])
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_b, data=data)
    assert any("cccd" in key for key in exc.value.message_dict)
    # the same rule for a file of commune B
    line = row(
        full_name="Phạm Văn Sáu",
        birth_date="09/09/1939",
        gender="Nam",
        cccd=SAU_CCCD,
        category="D20.5.5.c",
        start_month="01/2025",
        rep_full_name="Đỗ Thị Bảy",
        rep_cccd=REP_CCCD,
        rep_kind="Ủy quyền",
    )
    plan, result = import_file(tmp_path, [line], tree.b, officer_b)
    assert result["created"] == 0 and [e.row for e in plan.errors] == [2]
    rep.refresh_from_db()
    assert rep.full_name == "Lê Văn Tư"


def test_the_bulk_path_and_the_service_treat_a_known_person_alike(rep_in_a, officer_a, officer_b, tree, tmp_path):
    rep, _b = rep_in_a
    line = row(
        full_name="Phạm Văn Sáu",
        birth_date="09/09/1939",
        gender="Nam",
        cccd=SAU_CCCD,
        category="D20.5.5.c",
        start_month="01/2025",
        rep_full_name="Lê Văn Tư",
        rep_cccd=REP_CCCD,
        rep_phone="0911111111",
        rep_kind="Ủy quyền",
    )
    plan, result = import_file(tmp_path, [line], tree.b, officer_b)
    assert result["created"] == 1, plan.errors
    rep.refresh_from_db()
    assert rep.phone == "+84987654321"  # commune B may not change A's person
    assert Representative.objects.count() == 1
    # the person's own commune may correct it, through the same writer
    other = Beneficiary.objects.get(full_name="Phạm Văn Sáu")
    services.add_representation(actor=officer_a, beneficiary=_b, data=rep_input(phone="0911111111"))
    rep.refresh_from_db()
    assert rep.phone == "+84911111111"
    assert other.representations.get().representative_id == rep.pk


def test_api_shows_another_communes_person_by_name_and_masked_cccd_only(
    rep_in_a, make_input, officer_b, tree, api_client_for
):
    other = services.create_beneficiary(actor=officer_b, data=in_b(make_input, tree))
    client = api_client_for(officer_b)
    body = {"full_name": "Lê Văn Tư", "cccd": REP_CCCD, "kind": "authorised"}
    response = client.post(f"/api/v1/beneficiaries/{other.pk}/representatives", body, content_type="application/json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["birth_date"] is None and answer["phone"] == "" and answer["cccd_masked"]
    assert REP_CCCD not in response.content.decode() and "987654321" not in response.content.decode()


# --- 3. a restart pays under the categories again ----------------------------------------------


def test_a_restart_long_after_a_stop_has_categories_from_the_restart_month(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind=DecisionKind.STOP,
        number="5/QĐ",
        signed_on=date(2024, 8, 1),
        reason="ineligible",
        event_date=date(2024, 7, 20),
    )
    b.refresh_from_db()
    assert b.end_month == date(2024, 7, 1)
    services.record_decision(
        actor=officer_a, beneficiary=b, kind=DecisionKind.START, number="6/QĐ", signed_on=date(2025, 2, 3)
    )
    b.refresh_from_db()
    current = list(b.categories.filter(to_month__isnull=True).values_list("category__code", "from_month"))
    assert current == [("D20.5.5.c", date(2025, 2, 1))]
    # the months in between stay unpaid: the old row still ends in July 2024
    assert b.categories.filter(to_month=date(2024, 7, 1)).count() == 1


# --- 4. rules that only the form enforced ------------------------------------------------------


def test_duplicate_category_codes_are_a_validation_error_not_a_server_error(make_input, officer_a):
    data = make_input(categories=[CategoryInput(code="D20.5.5.c"), CategoryInput(code="D20.5.5.c")])
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=data)
    assert "categories" in exc.value.message_dict
    assert Beneficiary.objects.count() == 0


def test_an_import_row_with_a_category_twice_is_a_row_error_and_the_rest_is_written(tmp_path, officer_a, tree, policy):
    birth = date(1941, 2, 3)
    good = row(
        full_name="Nguyễn Văn Một",
        birth_date="03/02/1941",
        gender="Nam",
        cccd=cccd_for(birth, "male", "000001"),
        category="D20.5.5.c",
        start_month="01/2025",
    )
    twice = row(
        full_name="Nguyễn Văn Hai",
        birth_date="03/02/1941",
        gender="Nam",
        cccd=cccd_for(birth, "male", "000002"),
        category="D20.5.5.c",
        start_month="01/2025",
        other_categories="D20.5.5.c",
    )
    plan, result = import_file(tmp_path, [good, twice], tree.a, officer_a)
    assert [e.row for e in plan.errors] == [3], plan.errors
    assert result["created"] == 1


def test_adjust_with_zero_units_is_a_validation_error(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    with pytest.raises(ValidationError) as exc:
        services.record_decision(
            actor=officer_a,
            beneficiary=b,
            kind=DecisionKind.ADJUST,
            number="3/QĐ",
            signed_on=date(2025, 6, 5),
            event_date=date(2025, 5, 5),
            categories=[CategoryInput(code="D20.5.4", units=0)],
        )
    assert "categories" in exc.value.message_dict


def test_a_representation_ending_before_it_starts_is_a_validation_error(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    data = rep_input()
    data.valid_from, data.valid_to = date(2026, 5, 1), date(2026, 1, 1)
    with pytest.raises(ValidationError) as exc:
        services.add_representation(actor=officer_a, beneficiary=b, data=data)
    assert "valid_to" in exc.value.message_dict


def test_a_start_month_decades_before_the_decision_is_refused(make_input, officer_a):
    data = make_input(start_month=date(1995, 1, 1), backdating_reason="hồ sơ cũ")
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=data)
    assert "start_month" in exc.value.message_dict


def test_an_earlier_start_month_needs_a_reason_and_records_it(make_input, officer_a, settings):
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=make_input(start_month=date(2023, 12, 1)))
    assert "backdating_reason" in exc.value.message_dict
    b = services.create_beneficiary(
        actor=officer_a, data=make_input(start_month=date(2023, 12, 1), backdating_reason="Hồ sơ nộp từ 12/2023")
    )
    decision = b.decisions.get()
    assert (decision.effective_month, decision.backdating_reason) == (date(2023, 12, 1), "Hồ sơ nộp từ 12/2023")
    settings.ANSINH_MAX_BACKDATED_MONTHS = 2
    with pytest.raises(ValidationError):
        services.create_beneficiary(
            actor=officer_a,
            data=make_input(
                full_name="Trần Văn Ba",
                gender="male",
                cccd=cccd_for(date(1940, 5, 17), "male", "313131"),
                start_month=date(2023, 12, 1),
                backdating_reason="x",
            ),
        )


def test_a_stop_for_ineligibility_takes_effect_after_the_event_not_the_decision(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    d = services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind=DecisionKind.STOP,
        number="8/QĐ",
        signed_on=date(2025, 9, 15),
        reason="ineligible",
        event_date=date(2025, 6, 30),
    )
    assert d.effective_month == date(2025, 7, 1)  # July to September become a recovery in payroll
    b.refresh_from_db()
    assert b.end_month == date(2025, 6, 1)


# --- 5. a move goes only to another commune of the same tree --------------------------------------


@pytest.mark.parametrize("target", ["legacy_village", "current_commune", "same", "district"])
def test_a_move_cannot_send_a_beneficiary_anywhere(target, make_input, officer_a, tree, api_client_for):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    current_province = Area.objects.create(tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang")
    current_commune = Area.objects.create(
        tree=Tree.CURRENT, level=Level.COMMUNE, code="30100", name="Châu Đốc", parent=current_province
    )
    to = {
        "legacy_village": tree.village_a,
        "current_commune": current_commune,
        "same": tree.a,
        "district": tree.district,
    }[target]
    body = {
        "kind": "move",
        "number": "4/QĐ",
        "signed_on": "2025-07-01",
        "event_date": "2025-06-10",
        "to_commune_id": to.pk,
    }
    response = api_client_for(officer_a).post(
        f"/api/v1/beneficiaries/{b.pk}/decisions", body, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    b.refresh_from_db()
    assert (b.status, b.commune_id) == (Status.ACTIVE, tree.a.pk)
    with pytest.raises(ValidationError):
        services.record_decision(
            actor=officer_a,
            beneficiary=b,
            kind=DecisionKind.MOVE,
            number="4/QĐ",
            signed_on=date(2025, 7, 1),
            event_date=date(2025, 6, 10),
            to_commune=to,
        )


# --- 6. HIV-related categories are not shown, filtered on or found by read-only users ----------------


def test_api_hides_hiv_categories_from_a_read_only_user(make_input, officer_a, viewer_a, api_client_for):
    b = services.create_beneficiary(actor=officer_a, data=make_input(categories=[CategoryInput(code="D20.5.8")]))
    viewer, officer = api_client_for(viewer_a), api_client_for(officer_a)
    detail = viewer.get(f"/api/v1/beneficiaries/{b.pk}")
    assert detail.status_code == 200
    assert "D20.5.8" not in detail.content.decode() and "HIV" not in detail.content.decode()
    assert "D20.5.8" not in viewer.get(f"/api/v1/beneficiaries/{b.pk}/decisions").content.decode()
    assert viewer.get("/api/v1/beneficiaries?category=D20.5.8").json()["count"] == 0
    assert "D20.5.8" in officer.get(f"/api/v1/beneficiaries/{b.pk}").content.decode()
    assert officer.get("/api/v1/beneficiaries?category=D20.5.8").json()["count"] == 1


def test_a_cccd_search_does_not_confirm_a_number_to_a_user_who_may_not_see_it(
    make_input, officer_a, viewer_a, api_client_for
):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    assert api_client_for(viewer_a).get(f"/api/v1/beneficiaries?q={b.cccd}").json()["count"] == 0
    assert api_client_for(viewer_a).get(f"/api/v1/beneficiaries?cccd={b.cccd}").json()["count"] == 0
    assert api_client_for(officer_a).get(f"/api/v1/beneficiaries?q={b.cccd}").json()["count"] == 1


def test_a_likely_duplicate_in_another_commune_is_named_without_its_record_number(
    make_input, officer_a, officer_b, tree
):
    a = services.create_beneficiary(actor=officer_a, data=make_input(cccd=""))
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_b, data=make_input(cccd="", commune_id=tree.b.pk, village_id=None))
    message = " ".join(exc.value.message_dict["full_name"])
    assert str(a.pk) not in message
    assert tree.a.name in message


# --- 7. a re-import with changed categories or representatives updates them ----------------------


def test_reimport_with_a_changed_category_or_representative_is_an_audited_update(tmp_path, make_input, officer_a, tree):
    b = services.create_beneficiary(actor=officer_a, data=make_input(representatives=[rep_input()]))
    same = person_row(
        b,
        rep_full_name="Lê Văn Tư",
        rep_cccd=REP_CCCD,
        rep_kind="Ủy quyền",
        rep_relationship="Con",
        rep_birth_date="02/02/1975",
        rep_gender="Nam",
        rep_phone="0987654321",
    )
    plan, result = import_file(tmp_path, [same], tree.a, officer_a)
    assert result == {"created": 0, "updated": 0, "unchanged": 1}, plan.errors
    changed = person_row(
        b,
        category="D20.5.5.a",
        rep_full_name="Lê Văn Tư",
        rep_cccd=REP_CCCD,
        rep_kind="Ủy quyền",
        rep_relationship="Con",
        rep_birth_date="02/02/1975",
        rep_gender="Nam",
        rep_phone="0987654321",
        rep_is_payee="x",
    )
    plan, result = import_file(tmp_path, [changed], tree.a, officer_a)
    assert result == {"created": 0, "updated": 1, "unchanged": 0}, plan.errors
    assert list(
        BeneficiaryCategory.objects.filter(beneficiary=b, to_month__isnull=True).values_list(
            "category__code", flat=True
        )
    ) == ["D20.5.5.a"]
    assert b.representations.get().is_payee
    event = AuditEvent.objects.filter(action="registry.beneficiary.updated", object_id=str(b.pk)).latest("id")
    assert event.after["categories"] == ["D20.5.5.a::1"]
    assert AuditEvent.objects.filter(action="registry.representation.saved", after__is_payee=True).exists()


def test_reimport_cannot_rewrite_categories_that_changed_by_decision(tmp_path, make_input, officer_a, tree):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind=DecisionKind.ADJUST,
        number="3/QĐ",
        signed_on=date(2025, 6, 5),
        event_date=date(2025, 5, 20),
        categories=[CategoryInput(code="D20.5.5.a")],
    )
    plan, result = import_file(tmp_path, [person_row(b, category="D20.5.5.c")], tree.a, officer_a)
    assert result["updated"] == 0 and [e.row for e in plan.errors] == [2]
    assert Decision.objects.filter(beneficiary=b).count() == 2
