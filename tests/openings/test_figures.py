"""The figures behind Biểu 01: per unit and month, beneficiaries, accounts opened (cumulative and
in each month shown), rate and people without an account."""

from decimal import Decimal

import pytest
from django.utils import timezone

from ansinh.openings.figures import opening_table
from ansinh.payments import services as payment_services
from ansinh.payments.models import Institution
from ansinh.registry.rules import add_months

pytestmark = pytest.mark.django_db


def _account(officer, b, opened_on, *, activate=True, number="123456789012"):
    account = payment_services.register_account(
        actor=officer,
        beneficiary=b,
        kind="bank",
        institution=Institution.objects.get(code="LPB"),
        number=number,
        holder_name=b.full_name,
        opened_on=opened_on,
    )
    if activate:
        payment_services.activate_account(actor=officer, account=account)
    return account


def test_opening_figures_per_village_and_commune(tree, officer_a, make_person, client_for):
    this = timezone.localdate().replace(day=1)
    two_ago = add_months(this, -2)
    p1, p2, p3 = (make_person(n) for n in ("Nguyễn Thị Ánh", "Lê Thị Bé", "Trần Thị Cúc"))
    p4 = make_person("Phạm Thị Dung", village=None)
    make_person("Hồ Thị Em", commune=tree.b)
    _account(officer_a, p1, two_ago, number="111111111111")
    _account(officer_a, p1, this, number="111111111112")  # a second account: counted once, at the first
    _account(officer_a, p2, this, number="222222222222")
    _account(officer_a, p3, this, activate=False, number="333333333333")  # pending: not counted
    assert p4.village is None

    table = opening_table(tree.a, this, months=3)
    assert table.months == [two_ago, add_months(this, -1), this]
    village = next(r for r in table.rows if r.area == tree.village_a)
    assert (village.beneficiaries, village.opened_total, village.by_month) == (3, 2, [1, 0, 1])
    assert village.without_account == 1 and village.rate == Decimal("66.67")
    no_village = next(r for r in table.rows if r.area is None)
    assert (no_village.beneficiaries, no_village.opened_total) == (1, 0)
    assert (table.total.beneficiaries, table.total.opened_total, table.total.by_month) == (4, 2, [1, 0, 1])
    assert table.total.rate == Decimal("50.00") and table.total.without_account == 2

    # the district: one row per commune, B's beneficiary without an account
    district = opening_table(tree.district, this)
    rows = {r.area.pk: r for r in district.rows}
    assert (rows[tree.a.pk].beneficiaries, rows[tree.a.pk].opened_total) == (4, 2)
    assert (rows[tree.b.pk].beneficiaries, rows[tree.b.pk].opened_total) == (1, 0)
    assert district.total.beneficiaries == 5

    # the month before the first opening: nobody had an account yet
    earlier = opening_table(tree.a, add_months(this, -3))
    assert earlier.total.opened_total == 0

    page = client_for(officer_a).get("/mo-tai-khoan/so-lieu/", {"area": tree.a.pk, "month": this.strftime("%Y-%m")})
    assert page.status_code == 200
    assert page.context["table"].total.opened_total == 2
