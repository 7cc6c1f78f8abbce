"""Payment method and payee: effective from a month, with history; a month that may be paid is
never rewritten; set-based answers per month for the payroll."""

import pytest
from django.core.exceptions import ValidationError

from ansinh.audit.models import AuditEvent
from ansinh.payments import queries, services
from ansinh.payments.models import PaymentMethod
from ansinh.registry.models import Representation

from .conftest import add_month, mark_paid
from .test_approval import code, enrolled


def approve(change):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    checker = make_user("checker", Role.APPROVER, change.beneficiary.commune)
    services.approve_account_changes(actor=checker, changes=[change], token=code(enrolled(checker)))


def test_method_on_follows_the_history_month_by_month(beneficiary, officer_a, agribank):
    m0 = services.first_open_month()
    m1, m2, m3 = add_month(m0, 1), add_month(m0, 2), add_month(m0, 3)
    services.set_payment_method(
        actor=officer_a, beneficiary=beneficiary, method="pay_point", cash_reason="choice", from_month=m0
    )
    account = services.register_account(
        actor=officer_a,
        beneficiary=beneficiary,
        kind="bank",
        institution=agribank,
        number="7602 2050 12345",
        holder_name="NGUYEN THI ANH",
    )
    # the account takes effect through an approved change (tests/payments/test_approval.py)
    change = services.request_account_change(actor=officer_a, beneficiary=beneficiary, account=account, from_month=m2)
    approve(change)

    def on(month):
        pm = queries.method_on([beneficiary.pk], month).get(beneficiary.pk)
        return pm.method if pm else None

    assert on(add_month(m0, -1)) is None
    assert [on(m0), on(m1), on(m2), on(m3)] == ["pay_point", "pay_point", "account", "account"]
    assert queries.method_on([beneficiary.pk], m3)[beneficiary.pk].account == account


def test_default_month_is_the_next_month(beneficiary, officer_a):
    pm = services.set_payment_method(actor=officer_a, beneficiary=beneficiary, method="home", cash_reason="frail")
    assert pm.from_month == add_month(services.first_open_month(), 1)


def test_a_month_that_may_be_paid_is_never_rewritten(beneficiary, officer_a):
    mark_paid(beneficiary)
    past = add_month(services.first_open_month(), -1)
    with pytest.raises(ValidationError) as exc:
        services.set_payment_method(
            actor=officer_a, beneficiary=beneficiary, method="pay_point", cash_reason="choice", from_month=past
        )
    assert "from_month" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.designate_payee(actor=officer_a, beneficiary=beneficiary, representation=None, from_month=past)
    assert not PaymentMethod.objects.exists()


def test_a_later_change_supersedes_planned_ones_which_stay_in_the_history(beneficiary, officer_a):
    m0 = services.first_open_month()
    m2 = add_month(m0, 2)
    services.set_payment_method(
        actor=officer_a, beneficiary=beneficiary, method="pay_point", cash_reason="choice", from_month=m2
    )
    services.set_payment_method(
        actor=officer_a, beneficiary=beneficiary, method="home", cash_reason="cannot_travel", from_month=m0
    )
    assert queries.method_on([beneficiary.pk], m2)[beneficiary.pk].method == "home"
    history = list(queries.method_history(beneficiary))
    assert [(h.method, h.cancelled_at is not None) for h in history] == [("pay_point", True), ("home", False)]
    assert AuditEvent.objects.filter(action="payments.method.changed").count() == 2


def test_cash_needs_a_reason_and_account_needs_an_account(beneficiary, officer_a):
    with pytest.raises(ValidationError) as exc:
        services.set_payment_method(actor=officer_a, beneficiary=beneficiary, method="pay_point")
    assert "cash_reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.set_payment_method(actor=officer_a, beneficiary=beneficiary, method="account")
    assert "account" in exc.value.message_dict


def test_payee_history_and_the_registry_flag_follow_the_designations(beneficiary, guardian, officer_a):
    mark_paid(beneficiary)  # paid already: a change waits for the next month
    m0 = services.first_open_month()
    m1 = add_month(m0, 1)
    assert queries.payee_on([beneficiary.pk], m0) == {beneficiary.pk: None}
    services.designate_payee(actor=officer_a, beneficiary=beneficiary, representation=guardian)  # from m1
    assert queries.payee_on([beneficiary.pk], m0)[beneficiary.pk] is None
    assert queries.payee_on([beneficiary.pk], m1)[beneficiary.pk] == guardian
    assert Representation.objects.get(pk=guardian.pk).is_payee  # the latest designation
    services.designate_payee(actor=officer_a, beneficiary=beneficiary, representation=None, from_month=add_month(m0, 3))
    assert queries.payee_on([beneficiary.pk], add_month(m0, 2))[beneficiary.pk] == guardian
    assert queries.payee_on([beneficiary.pk], add_month(m0, 3))[beneficiary.pk] is None
    assert not Representation.objects.get(pk=guardian.pk).is_payee
    assert AuditEvent.objects.filter(action="payments.payee.designated").count() == 2


def test_before_any_designation_the_registry_flag_is_the_payee(beneficiary, guardian, officer_a):
    from ansinh.registry import services as registry_services

    registry_services.set_payee(actor=officer_a, beneficiary=beneficiary, representation=guardian)
    assert queries.payee_on([beneficiary.pk], services.first_open_month())[beneficiary.pk] == guardian


def test_method_on_is_one_query_for_many_beneficiaries(beneficiary, officer_a, django_assert_num_queries):
    services.set_payment_method(actor=officer_a, beneficiary=beneficiary, method="home", cash_reason="no_phone")
    month = add_month(services.first_open_month(), 1)
    with django_assert_num_queries(1):
        answer = queries.method_on(list(range(1, 500)) + [beneficiary.pk], month)
    assert list(answer) == [beneficiary.pk]


def test_make_payee_on_the_registry_page_records_a_designation_from_the_next_month(
    beneficiary, guardian, officer_a, client_for
):
    mark_paid(beneficiary)
    r = client_for(officer_a).post(f"/beneficiaries/{beneficiary.pk}/payee/", {"representation": guardian.pk})
    assert r.status_code == 302
    m1 = services.default_month()
    assert queries.payee_on([beneficiary.pk], m1)[beneficiary.pk] == guardian
    assert [(d.from_month, d.representation_id) for d in queries.payee_history(beneficiary)] == [(m1, guardian.pk)]
    assert Representation.objects.get(pk=guardian.pk).is_payee
