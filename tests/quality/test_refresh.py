"""Every kind of problem is found by a refresh and its item closes once the problem is fixed;
a second refresh changes nothing; items never carry a full CCCD or a category."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import call_command

from ansinh.audit.models import AuditEvent
from ansinh.payments import services as payments
from ansinh.payments.models import ReceivingAccount
from ansinh.quality.models import Kind, WorklistItem
from ansinh.quality.services import refresh
from ansinh.registry import services as registry
from ansinh.registry.inputs import PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary
from ansinh.verification.models import Outcome

from .conftest import account_for, edit_input, verify


def open_kinds(b) -> set[str]:
    return set(WorklistItem.objects.filter(beneficiary=b, closed_at__isnull=True).values_list("kind", flat=True))


def found(tree, b) -> set[str]:
    refresh(area=tree.a)
    return open_kinds(b)


def test_a_clean_record_has_no_item(tree, make):
    b = make("Nguyễn Văn Sạch")
    assert found(tree, b) == set()


def test_missing_cccd_closes_when_entered(tree, make, officer_a):
    b = make("Lê Thị Trống")
    cccd = b.cccd
    Beneficiary.objects.filter(pk=b.pk).update(cccd="")
    b.refresh_from_db()
    assert Kind.CCCD_MISSING in found(tree, b)
    registry.update_beneficiary(actor=officer_a, beneficiary=b, data=edit_input(b, cccd=cccd))
    assert Kind.CCCD_MISSING not in found(tree, b)


def test_invalid_cccd_closes_when_corrected(tree, make, officer_a):
    b = make("Lê Thị Sai")
    good = b.cccd
    Beneficiary.objects.filter(pk=b.pk).update(cccd=good[:3] + "0" + good[4:])  # 4th digit: a man
    b.refresh_from_db()
    assert Kind.CCCD_INVALID in found(tree, b)
    registry.update_beneficiary(actor=officer_a, beneficiary=b, data=edit_input(b, cccd=good))
    assert Kind.CCCD_INVALID not in found(tree, b)


@pytest.mark.parametrize("cccd", ["08919501234", "0891950123ab", "000195012345", "089194912345"])
def test_malformed_cccds_are_invalid(tree, make, cccd):
    b = make("Lê Thị Hỏng")
    Beneficiary.objects.filter(pk=b.pk).update(cccd=cccd)
    assert Kind.CCCD_INVALID in found(tree, b)


def test_missing_and_invalid_phone(tree, make, officer_a):
    no_phone = make("Trần Văn Không", phone="")
    bad = make("Trần Văn Hỏng")
    Beneficiary.objects.filter(pk=bad.pk).update(phone="0912")
    bad.refresh_from_db()
    refresh(area=tree.a)
    assert Kind.PHONE_MISSING in open_kinds(no_phone)
    assert Kind.PHONE_INVALID in open_kinds(bad)
    registry.update_beneficiary(actor=officer_a, beneficiary=no_phone, data=edit_input(no_phone, no_phone=True))
    registry.update_beneficiary(actor=officer_a, beneficiary=bad, data=edit_input(bad, phone="0987654321"))
    refresh(area=tree.a)
    assert open_kinds(no_phone) == set()
    assert open_kinds(bad) == set()


def test_no_payment_method_closes_when_chosen(tree, make, officer_a):
    b = make("Phạm Văn Chưa", method=False)
    assert Kind.NO_METHOD in found(tree, b)
    payments.set_payment_method(actor=officer_a, beneficiary=b, method="home", cash_reason="frail")
    assert Kind.NO_METHOD not in found(tree, b)


def _guardian(officer, b, name="Trần Văn Giám"):
    return registry.add_representation(
        actor=officer,
        beneficiary=b,
        data=RepresentationInput(
            person=PersonInput(full_name=name, birth_date=date(1970, 2, 3), gender="male"), kind="guardian"
        ),
    )


def test_no_payee_when_a_guardian_is_not_paid_and_when_the_payee_ended(tree, make, officer_a):
    b = make("Võ Thị Giám Hộ")
    link = _guardian(officer_a, b)
    assert Kind.NO_PAYEE in found(tree, b)
    payments.designate_payee(actor=officer_a, beneficiary=b, representation=link)
    assert Kind.NO_PAYEE not in found(tree, b)
    registry.end_representation(actor=officer_a, representation=link)
    # the beneficiary is paid from next month; a designation of the ended link would be flagged
    assert Kind.NO_PAYEE not in found(tree, b)


def test_a_child_without_a_representative_payee(tree, make, officer_a):
    child = make("Đỗ Văn Nhỏ", birth=date(2019, 3, 3), gender="male")
    assert Kind.NO_PAYEE in found(tree, child)
    link = registry.add_representation(
        actor=officer_a,
        beneficiary=child,
        data=RepresentationInput(
            person=PersonInput(full_name="Đỗ Thị Mẹ", birth_date=date(1990, 1, 1), gender="female"),
            kind="authorised",
        ),
    )
    payments.designate_payee(actor=officer_a, beneficiary=child, representation=link)
    assert Kind.NO_PAYEE not in found(tree, child)


def test_unverified_closes_when_verified(tree, make):
    b = make("Hồ Văn Chờ", verified=False)
    assert Kind.UNVERIFIED in found(tree, b)
    verify(b)
    assert Kind.UNVERIFIED not in found(tree, b)


def test_identity_mismatch_closes_when_corrected_and_waits_for_the_next_check(tree, make, officer_a):
    b = make("Trần Thị Lệch", verified=False)
    verify(b, Outcome.MISMATCH, mismatched_fields=["birth_date"])
    assert found(tree, b) == {Kind.IDENTITY_MISMATCH}
    item = WorklistItem.objects.get(beneficiary=b, kind=Kind.IDENTITY_MISMATCH)
    assert item.detail["outcome"] == "mismatch"
    registry.update_beneficiary(actor=officer_a, beneficiary=b, data=edit_input(b, birth_date=date(1950, 5, 18)))
    assert found(tree, b) == {Kind.UNVERIFIED}
    item.refresh_from_db()
    assert item.closed_at is not None
    verify(Beneficiary.objects.get(pk=b.pk))
    assert found(tree, b) == set()


def test_a_phone_correction_does_not_close_a_mismatch(tree, make, officer_a):
    b = make("Trần Thị Vẫn Lệch", verified=False)
    verify(b, Outcome.NOT_FOUND)
    assert Kind.IDENTITY_MISMATCH in found(tree, b)
    registry.update_beneficiary(actor=officer_a, beneficiary=b, data=edit_input(b, phone="0987654321"))
    assert Kind.IDENTITY_MISMATCH in found(tree, b)


def test_deceased_closes_with_the_stop_decision(tree, make, officer_a):
    b = make("Võ Thị Mất", verified=False)
    verify(b, Outcome.DECEASED, death_date=date(2025, 3, 15))
    assert Kind.DECEASED in found(tree, b)
    item = WorklistItem.objects.get(beneficiary=b, kind=Kind.DECEASED, closed_at__isnull=True)
    assert item.detail["death_date"] == "2025-03-15"
    registry.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind="stop",
        number="9/QĐ",
        signed_on=date.today(),
        reason="died",
        death_date=date(2025, 3, 15),
        event_date=date(2025, 3, 15),
    )
    assert found(tree, b) == set()


def test_weak_name_closes_when_confirmed(tree, make, officer_a, agribank):
    b = make("Nguyễn Thị Ánh")
    account = account_for(b, officer_a, agribank, holder_name="NGUYEN THI ANH DAO", active=False)
    assert Kind.WEAK_NAME in found(tree, b)
    assert WorklistItem.objects.get(kind=Kind.WEAK_NAME, closed_at__isnull=True).account_id == account.pk
    payments.confirm_holder_name(actor=officer_a, account=account)
    assert Kind.WEAK_NAME not in found(tree, b)


def test_an_account_of_somebody_else_and_too_many_people_on_one_account(tree, make, officer_a, agribank, settings):
    settings.ANSINH_WORKLIST_MAX_PER_ACCOUNT = 2
    people = [make(name) for name in ("Lý Văn Một", "Lý Văn Hai", "Lý Văn Ba")]
    accounts = [account_for(p, officer_a, agribank) for p in people]
    refresh(area=tree.a)
    for p in people:
        assert {Kind.NOT_REPRESENTED, Kind.SHARED_ACCOUNT} <= open_kinds(p)
    shared = WorklistItem.objects.filter(kind=Kind.SHARED_ACCOUNT, closed_at__isnull=True).first()
    assert shared.detail == {"count": 3}
    ReceivingAccount.objects.filter(pk__in=[a.pk for a in accounts[1:]]).update(status="closed")
    refresh(area=tree.a)
    for p in people:
        assert not {Kind.NOT_REPRESENTED, Kind.SHARED_ACCOUNT} & open_kinds(p)


def test_a_guardian_holding_one_account_for_two_children_is_fine(tree, make, officer_a, agribank, settings):
    a, b = make("Mai Văn Anh"), make("Mai Văn Em")
    person = PersonInput(full_name="Mai Thị Mẹ", birth_date=date(1985, 1, 1), gender="female", cccd="089185001122")
    links = [
        registry.add_representation(
            actor=officer_a, beneficiary=x, data=RepresentationInput(person=person, kind="guardian")
        )
        for x in (a, b)
    ]
    for x, link in zip((a, b), links, strict=True):
        account = payments.register_account(
            actor=officer_a,
            beneficiary=x,
            kind="bank",
            institution=agribank,
            number="760220509999999",
            holder_name="MAI THI ME",
            holder_representation=link,
        )
        ReceivingAccount.objects.filter(pk=account.pk).update(status="active")
    refresh(area=tree.a)
    assert Kind.NOT_REPRESENTED not in open_kinds(a) | open_kinds(b)
    registry.end_representation(actor=officer_a, representation=links[0])
    refresh(area=tree.a)
    assert Kind.NOT_REPRESENTED in open_kinds(a)


def test_stopped_beneficiary_with_an_active_account(tree, make, officer_a, agribank):
    b = make("Châu Văn Dừng")
    account = account_for(b, officer_a, agribank)
    registry.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind="stop",
        number="5/QĐ",
        signed_on=date.today(),
        reason="ineligible",
        event_date=date.today(),
    )
    refresh(area=tree.a)
    assert Kind.STOPPED_PAYABLE in open_kinds(b)
    ReceivingAccount.objects.filter(pk=account.pk).update(status="closed")
    refresh(area=tree.a)
    assert Kind.STOPPED_PAYABLE not in open_kinds(b)


def test_duplicates_by_cccd_and_by_name_in_the_province(tree, make, officer_a):
    first = make("Đinh Thị Trùng")
    second = make("Đinh Thị Trùng Tên", commune=tree.b)
    Beneficiary.objects.filter(pk=second.pk).update(full_name=first.full_name, name_key=first.name_key)
    refresh()
    assert Kind.DUPLICATE_NAME in open_kinds(first)
    assert Kind.DUPLICATE_NAME in open_kinds(second)
    registry.record_decision(
        actor=officer_a,
        beneficiary=first,
        kind="stop",
        number="6/QĐ",
        signed_on=date.today(),
        reason="ineligible",
        event_date=date.today(),
    )
    refresh()
    assert Kind.DUPLICATE_NAME not in open_kinds(second)

    other = make("Quách Văn Khác")
    Beneficiary.objects.filter(pk=first.pk).update(cccd=other.cccd)  # the stopped record shares the CCCD
    refresh(area=tree.a)
    item = WorklistItem.objects.get(beneficiary=other, kind=Kind.DUPLICATE_CCCD, closed_at__isnull=True)
    assert item.detail == {"other": first.pk}
    Beneficiary.objects.filter(pk=first.pk).update(cccd="")
    refresh(area=tree.a)
    assert Kind.DUPLICATE_CCCD not in open_kinds(other)


def test_every_kind_is_covered():
    from ansinh.quality.services import PROBLEMS

    assert set(PROBLEMS) == set(Kind.values)


def test_refresh_twice_is_a_no_op_and_is_audited_once(tree, make):
    make("Bùi Văn Hai Lần", verified=False, method=False)
    first = refresh(area=tree.a, actor=None)
    assert first["opened"] == {Kind.NO_METHOD: 1, Kind.UNVERIFIED: 1}
    assert first["open"][Kind.NO_METHOD] == 1
    events = AuditEvent.objects.filter(action="quality.refreshed").count()
    items = list(WorklistItem.objects.values_list("id", "kind", "opened_at", "closed_at"))
    second = refresh(area=tree.a)
    assert second["opened"] == {} and second["closed"] == {}
    assert list(WorklistItem.objects.values_list("id", "kind", "opened_at", "closed_at")) == items
    assert AuditEvent.objects.filter(action="quality.refreshed").count() == events == 1


def test_another_communes_refresh_leaves_a_alone(tree, make):
    b = make("Tô Văn Riêng", method=False)
    summary = refresh(area=tree.b)
    assert summary["open"][Kind.NO_METHOD] == 0
    assert not WorklistItem.objects.filter(beneficiary=b).exists()
    refresh(area=tree.a)
    assert refresh(area=tree.b)["closed"] == {}
    assert open_kinds(b) == {Kind.NO_METHOD}


def test_details_never_hold_a_full_cccd_or_a_category(tree, make, agribank, officer_a):
    people = [make("Kha Văn Một", verified=False), make("Kha Văn Hai", verified=False)]
    verify(people[0], Outcome.MISMATCH, mismatched_fields=["full_name"])
    verify(people[1], Outcome.DECEASED, death_date=date(2025, 1, 1))
    account_for(people[0], officer_a, agribank, holder_name="KHA VAN MOT X")
    refresh()
    text = json.dumps(list(WorklistItem.objects.values_list("detail", flat=True)))
    for p in people:
        assert p.cccd not in text
    assert "760220501234567" not in text
    assert "D20" not in text and "HIV" not in text.upper()
    allowed = {"result", "outcome", "death_date", "score", "count", "other"}
    for detail in WorklistItem.objects.values_list("detail", flat=True):
        assert set(detail) <= allowed


def test_the_command_prints_a_json_summary(tree, make, capsys):
    make("Lâm Văn Lệnh", method=False)
    call_command("refresh_worklists", "--area", tree.a.code)
    out = json.loads(capsys.readouterr().out)
    assert out["open"][Kind.NO_METHOD] == 1
    call_command("refresh_worklists")
    assert json.loads(capsys.readouterr().out)["opened"] == {}
