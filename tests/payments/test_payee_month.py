"""One rule for the month a payee change takes effect (`services.payee_change_month`), used by
every path: the registry's "make payee" button and API, `designate_payee` without a month, and
the registry's bulk writers (`payees.record_payee_changes`).

- a beneficiary already paid (a payroll line exists): from the next month (the current month
  may be in a payroll already);
- a beneficiary not paid yet, or whose start month is in the future: from the start month."""

from datetime import date

from django.urls import reverse

from ansinh.payments import services
from ansinh.payments.models import PayeeDesignation
from ansinh.registry import services as registry_services
from ansinh.registry.inputs import PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary, Representation

from .conftest import add_month, mark_paid

TODAY = date(2026, 5, 14)


def _designations(b):
    return [
        (d.from_month, d.representation_id)
        for d in PayeeDesignation.objects.filter(beneficiary=b, cancelled_at__isnull=True).order_by("from_month")
    ]


def test_a_paid_beneficiary_changes_payee_from_the_next_month(beneficiary):
    mark_paid(beneficiary)
    assert services.payee_change_month(beneficiary, TODAY) == date(2026, 6, 1)


def test_a_beneficiary_not_paid_yet_changes_payee_from_the_start_month(beneficiary):
    Beneficiary.objects.filter(pk=beneficiary.pk).update(start_month=date(2026, 3, 1))
    beneficiary.refresh_from_db()
    assert services.payee_change_month(beneficiary, TODAY) == date(2026, 3, 1)


def test_a_future_start_changes_payee_from_the_start_month(beneficiary):
    mark_paid(beneficiary)  # even with a line (a correction): nothing before the start is paid
    Beneficiary.objects.filter(pk=beneficiary.pk).update(start_month=date(2026, 9, 1))
    beneficiary.refresh_from_db()
    assert services.payee_change_month(beneficiary, TODAY) == date(2026, 9, 1)


def test_many_beneficiaries_in_one_query(beneficiary, django_assert_num_queries):
    with django_assert_num_queries(1):
        months = services.payee_change_months([beneficiary], TODAY)
    assert months == {beneficiary.pk: beneficiary.start_month}


def _add_payee(officer, b, name):
    return registry_services.add_representation(
        actor=officer,
        beneficiary=b,
        data=RepresentationInput(person=PersonInput(full_name=name, gender="male"), kind="authorised"),
    )


def _button_and_bulk_months(client, officer, b):
    """The month the registry page's button designates from, and the month the bulk path
    (add a payee representative: `record_payee_changes`) designates from."""
    first = _add_payee(officer, b, "Trần Văn Bình")
    client.force_login(officer)
    r = client.post(reverse("registry:payee", args=[b.pk]), {"representation": first.pk})
    assert r.status_code == 302
    button = PayeeDesignation.objects.filter(beneficiary=b, cancelled_at__isnull=True).latest("id")
    assert button.representation_id == first.pk
    second = registry_services.add_representation(
        actor=officer,
        beneficiary=b,
        data=RepresentationInput(
            person=PersonInput(full_name="Lê Thị Hoa", gender="female"), kind="authorised", is_payee=True
        ),
    )
    bulk = PayeeDesignation.objects.filter(beneficiary=b, cancelled_at__isnull=True).latest("id")
    assert bulk.representation_id == second.pk and Representation.objects.get(pk=second.pk).is_payee
    return button.from_month, bulk.from_month


def test_the_button_and_the_bulk_path_agree_for_a_paid_beneficiary(client, beneficiary, officer_a):
    mark_paid(beneficiary)
    button, bulk = _button_and_bulk_months(client, officer_a, beneficiary)
    assert button == bulk == add_month(services.first_open_month(), 1)


def test_the_button_and_the_bulk_path_agree_for_a_beneficiary_not_paid_yet(client, beneficiary, officer_a):
    button, bulk = _button_and_bulk_months(client, officer_a, beneficiary)
    assert button == bulk == beneficiary.start_month
    # the later change replaces the earlier one from the same month: one designation in effect
    assert len(_designations(beneficiary)) == 1
