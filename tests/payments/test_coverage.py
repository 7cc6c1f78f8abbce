"""Coverage indicators: exact figures per commune, office and province on a known dataset, the
configurable target, scoping, the page, the dashboard block and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from ansinh.accounts.models import Function, OrgKind
from ansinh.accounts.roles import Role
from ansinh.accounts.services import assign_responsibility, create_org_unit
from ansinh.payments.coverage import coverage, share
from tests.conftest import make_user

from .registration_world import build


@pytest.fixture
def world(tree, policy, officer_a, officer_b):
    return build(tree, officer_a, officer_b)


@pytest.fixture
def monitor(tree):
    return make_user("monitor_89", Role.PROVINCE_MONITOR, tree.province)


def as_tuple(f):
    return (f.active, f.with_account, f.paid_by_account, f.registering_ncc, f.registering_btxh)


def test_figures_of_one_commune_are_exact(world, officer_a):
    report = coverage(officer_a)
    assert [u.name for u in report.communes] == ["Phường Châu Phú A"]
    f = report.communes[0].figures
    # receiving: 6 (the stopped one is not); active accounts: 2 (two more are pending);
    # paid through the account: 1 of the 2 holders; on the lists: 2 NCC, 2 social assistance
    assert as_tuple(f) == (6, 2, 1, 2, 2)
    assert f.account_share == Decimal("33.3") and f.paid_share == Decimal("50.0")
    assert f.without_account == 4
    assert f.meets(report.target) is True and report.target == Decimal("30")


def test_offices_provinces_and_totals_are_sums_of_the_communes(world, monitor, tree):
    report = coverage(monitor)
    by_name = {u.name: as_tuple(u.figures) for u in report.communes}
    assert by_name == {"Phường Châu Phú A": (6, 2, 1, 2, 2), "Phường Vĩnh Mỹ": (1, 1, 0, 0, 1)}
    # no approving office recorded: the communes are grouped under their district
    assert [(u.name, as_tuple(u.figures)) for u in report.offices] == [("Thành phố Châu Đốc", (7, 3, 1, 2, 3))]
    assert [(u.name, as_tuple(u.figures)) for u in report.provinces] == [("Tỉnh An Giang", (7, 3, 1, 2, 3))]
    assert as_tuple(report.total) == (7, 3, 1, 2, 3)
    assert report.total.account_share == Decimal("42.9")


def test_the_approving_office_groups_its_communes(world, monitor, tree):
    office = create_org_unit(
        actor=None, kind=OrgKind.APPROVING_OFFICE, name="Phòng LĐTBXH Châu Đốc", area=tree.district
    )
    assign_responsibility(actor=None, org_unit=office, area=tree.district, function=Function.APPROVE)
    own = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND phường Vĩnh Mỹ", area=tree.b)
    assign_responsibility(actor=None, org_unit=own, area=tree.b, function=Function.APPROVE)
    offices = {u.name: as_tuple(u.figures) for u in coverage(monitor).offices}
    assert offices == {"Phòng LĐTBXH Châu Đốc": (6, 2, 1, 2, 2), "UBND phường Vĩnh Mỹ": (1, 1, 0, 0, 1)}


def test_the_target_is_configurable(world, officer_a, settings):
    settings.ANSINH_ACCOUNT_COVERAGE_TARGET = Decimal("40")
    report = coverage(officer_a)
    assert report.target == Decimal("40")
    assert report.communes[0].figures.meets(report.target) is False


def test_another_commune_sees_only_its_own(world, officer_b, tree):
    assert [u.name for u in coverage(officer_b).communes] == ["Phường Vĩnh Mỹ"]
    assert coverage(officer_b, tree.a.pk).communes == []


def test_share_rounding_and_nobody():
    assert share(1, 3) == Decimal("33.3") and share(2, 3) == Decimal("66.7") and share(0, 0) is None


def test_the_page_the_dashboard_and_the_api(world, officer_a, officer_b, client_for, api_client_for, tree, settings):
    client = client_for(officer_a)
    page = client.get(reverse("coverage:index")).content.decode()
    assert "Châu Phú A" in page and 'data-target="met"' in page
    assert f"{reverse('coverage:lists')}?kind=ncc&amp;area={tree.a.pk}" in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'data-section="coverage"' in dashboard and reverse("coverage:index") in dashboard
    settings.ANSINH_ACCOUNT_COVERAGE_TARGET = Decimal("50")
    assert 'data-target="below"' in client.get(reverse("coverage:index")).content.decode()

    got = api_client_for(officer_a).get("/api/v1/coverage").json()
    assert got["target"] == 50.0
    assert got["communes"][0]["figures"] | {} == got["total"] | {}
    assert got["total"]["active"] == 6 and got["total"]["account_share"] == 33.3
    assert got["total"]["meets_target"] is False
    outsider = api_client_for(officer_b).get("/api/v1/coverage", {"area": tree.a.pk})
    assert (
        outsider.status_code == 200
        and outsider.json()["communes"] == []
        and "Châu Phú A" not in outsider.content.decode()
    )


def test_the_page_reads_a_bounded_number_of_queries(world, monitor, client_for, django_assert_max_num_queries):
    client = client_for(monitor)
    client.get(reverse("coverage:index"))
    with django_assert_max_num_queries(15):
        assert client.get(reverse("coverage:index")).status_code == 200
