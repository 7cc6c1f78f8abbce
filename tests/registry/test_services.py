from datetime import date

import pytest
from django.core.exceptions import ValidationError

from ansinh.audit.models import AuditEvent
from ansinh.core.errors import InvalidTransition
from ansinh.registry import queries, services
from ansinh.registry.inputs import CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary, DecisionKind, Representative, Status, StatusChange
from tests.factories import cccd_for


def test_create_registers_start_decision_history_and_audit(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    assert b.status == Status.ACTIVE
    assert b.start_month == date(2024, 3, 1)
    assert b.name_key == "nguyen thi anh"
    assert b.phone == "+84912345678"
    assert b.area_path == b.village.path
    assert list(b.decisions.values_list("kind", flat=True)) == [DecisionKind.START]
    assert StatusChange.objects.filter(beneficiary=b, to_status=Status.ACTIVE).count() == 1
    event = AuditEvent.objects.get(action="registry.beneficiary.created", object_id=str(b.pk))
    assert event.actor == officer_a
    assert event.after["cccd"].startswith("********")  # masked in the log


def test_cccd_contradicting_birth_year_is_refused(make_input, officer_a):
    data = make_input(cccd="089150012345")  # says born 1950, record says 1940
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=data)
    assert "cccd" in exc.value.message_dict
    assert Beneficiary.objects.count() == 0


def test_same_cccd_cannot_belong_to_two_active_beneficiaries(make_input, officer_a):
    services.create_beneficiary(actor=officer_a, data=make_input())
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=make_input(full_name="Trần Văn Bình", gender="female"))
    assert "cccd" in exc.value.message_dict


def test_likely_duplicate_is_warned_not_silently_accepted(make_input, officer_a):
    services.create_beneficiary(actor=officer_a, data=make_input(cccd=""))
    with pytest.raises(ValidationError) as exc:
        services.create_beneficiary(actor=officer_a, data=make_input(full_name="NGUYEN THI ANH", cccd=""))
    assert "full_name" in exc.value.message_dict
    second = services.create_beneficiary(
        actor=officer_a, data=make_input(full_name="Nguyễn Thị Ánh", cccd=""), accept_duplicate=True
    )
    assert second.has_issues
    assert any(i["field"] == "full_name" for i in second.quality_issues)


def test_stop_on_death_takes_effect_the_month_after(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    d = services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind=DecisionKind.STOP,
        number="20/QĐ-UBND",
        signed_on=date(2025, 4, 2),
        reason="died",
        death_date=date(2025, 3, 14),
    )
    b.refresh_from_db()
    assert d.effective_month == date(2025, 4, 1)
    assert b.status == Status.STOPPED and b.end_month == date(2025, 3, 1)
    assert b.categories.filter(to_month__isnull=True).count() == 0
    # a stopped beneficiary frees the CCCD but cannot be suspended
    with pytest.raises(InvalidTransition):
        services.record_decision(
            actor=officer_a,
            beneficiary=b,
            kind=DecisionKind.SUSPEND,
            number="21/QĐ",
            signed_on=date(2025, 5, 1),
        )


def test_suspend_and_resume(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    services.record_decision(
        actor=officer_a, beneficiary=b, kind=DecisionKind.SUSPEND, number="1/QĐ", signed_on=date(2025, 1, 10)
    )
    b.refresh_from_db()
    assert b.status == Status.SUSPENDED
    services.record_decision(
        actor=officer_a, beneficiary=b, kind=DecisionKind.RESUME, number="2/QĐ", signed_on=date(2025, 2, 10)
    )
    b.refresh_from_db()
    assert b.status == Status.ACTIVE
    assert list(b.status_history.values_list("to_status", flat=True)) == ["active", "suspended", "active"]


def test_adjust_closes_old_categories(make_input, officer_a):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind=DecisionKind.ADJUST,
        number="3/QĐ",
        signed_on=date(2025, 6, 5),
        event_date=date(2025, 5, 20),  # the condition changed in May: the new level from June
        categories=[CategoryInput(code="D20.5.6", condition="extremely_severe:child_or_elderly")],
    )
    current = list(b.categories.filter(to_month__isnull=True).values_list("category__code", flat=True))
    assert current == ["D20.5.6"]
    old = b.categories.get(category__code="D20.5.5.c")
    assert old.to_month == date(2025, 5, 1)


def test_move_is_a_stop_and_a_linked_start_without_a_month_lost_or_paid_twice(make_input, officer_a, officer_b, tree):
    b = services.create_beneficiary(actor=officer_a, data=make_input())
    move = services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind=DecisionKind.MOVE,
        number="4/QĐ",
        signed_on=date(2025, 7, 1),
        event_date=date(2025, 6, 10),
        to_commune=tree.b,
    )
    b.refresh_from_db()
    # the old commune's half: stopped (moved) after June, still in the old commune until received
    assert move.effective_month == date(2025, 7, 1)
    assert b.status == Status.STOPPED and b.stop_reason == "moved" and b.end_month == date(2025, 6, 1)
    assert b.commune == tree.a
    assert list(queries.pending_moves()) == [move]
    start = services.accept_move(actor=officer_b, move=move, number="9/QĐ-UBND", signed_on=date(2025, 8, 3))
    b.refresh_from_db()
    assert start.follows == move and start.kind == DecisionKind.START
    assert start.effective_month == date(2025, 7, 1)  # continues from the month the old one stopped
    assert start.backdating_reason  # July is paid as arrears, with the reason recorded
    assert b.commune == tree.b and b.village is None and b.area_path == tree.b.path
    assert b.status == Status.ACTIVE and b.end_month is None
    assert list(b.categories.filter(to_month__isnull=True).values_list("from_month", flat=True)) == [date(2025, 7, 1)]
    assert list(queries.pending_moves()) == []
    with pytest.raises(InvalidTransition):
        services.accept_move(actor=officer_b, move=move, number="10/QĐ", signed_on=date(2025, 8, 3))


def test_one_person_represents_two_beneficiaries_and_payee_switches(make_input, officer_a):
    rep_birth = date(1975, 2, 2)
    rep = RepresentationInput(
        person=PersonInput(
            full_name="Lê Văn Tư",
            birth_date=rep_birth,
            gender="male",
            cccd=cccd_for(rep_birth, "male", "555555"),
            phone="0987654321",
        ),
        kind="authorised",
        relationship="Con",
        is_payee=True,
    )
    b1 = services.create_beneficiary(actor=officer_a, data=make_input(representatives=[rep]))
    b2 = services.create_beneficiary(
        actor=officer_a,
        data=make_input(
            full_name="Lê Thị Năm",
            birth_date=date(1938, 1, 1),
            cccd=cccd_for(date(1938, 1, 1), "female", "777777"),
            representatives=[rep],
        ),
    )
    assert Representative.objects.count() == 1
    link = b1.representations.get()
    assert link.is_payee
    services.set_payee(actor=officer_a, beneficiary=b1, representation=None)
    link.refresh_from_db()
    assert not link.is_payee
    assert b2.representations.get().is_payee
