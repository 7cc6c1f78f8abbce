"""Pay-point coverage per commune (ansinh.cashout.coverage), on the page and over the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ansinh.accounts.roles import Role
from ansinh.areas.models import Area, Level, Tree
from ansinh.cashout import coverage, pay_points
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _point(actor, commune, name, atm=False, active=True):
    point = pay_points.create_pay_point(
        actor=actor,
        commune=commune,
        data=pay_points.PayPointInput(name=name, kind="commune_hall", address="UBND", atm_nearby=atm),
    )
    if not active:
        type(point).objects.filter(pk=point.pk).update(active=False)
    return point


@pytest.fixture
def district_world(tree):
    """Commune A with two pay points (one with an ATM nearby) and a route, commune B with one
    not in use, commune C with one without an ATM, and the office officer of the district."""
    office = make_user("office", Role.OFFICE_OFFICER, tree.district)
    c = Area.objects.create(
        tree=Tree.LEGACY, level=Level.COMMUNE, name="Núi Sam", division_type="Phường", parent=tree.district
    )
    _point(office, tree.a, "Bưu điện", atm=True)
    _point(office, tree.a, "Nhà văn hóa")
    _point(office, tree.b, "UBND Vĩnh Mỹ", atm=True, active=False)
    _point(office, c, "UBND Núi Sam")
    pay_points.create_route(actor=office, commune=tree.a, data=pay_points.RouteInput(name="Tuyến 1"))
    return office, c


def test_counts_per_commune_and_atm_summary(tree, district_world):
    office, c = district_world
    report = coverage.coverage(office)
    assert len(report.groups) == 1
    rows = {r.commune.name: (r.pay_points, r.with_atm, r.routes) for r in report.total.rows}
    assert rows == {"Châu Phú A": (2, 1, 1), "Vĩnh Mỹ": (0, 0, 0), "Núi Sam": (1, 0, 0)}
    assert (report.total.communes, report.total.with_atm, report.total.without_pay_point) == (3, 1, 1)
    assert [r.commune.name for r in report.without] == ["Vĩnh Mỹ"]
    assert "1" in coverage.atm_summary(report.total) and "3" in coverage.atm_summary(report.total)


def test_a_commune_user_sees_their_commune_only(tree, district_world, officer_a, officer_b):
    report = coverage.coverage(officer_a)
    assert [r.commune.name for r in report.total.rows] == ["Châu Phú A"]
    assert [r.commune.name for r in coverage.coverage(officer_b).without] == ["Vĩnh Mỹ"]


def test_page_and_api(tree, district_world, client_for, api_client_for, officer_b):
    office, _c = district_world
    page = client_for(office).get(reverse("cashout:coverage"))
    text = page.content.decode()
    assert page.status_code == 200 and "Vĩnh Mỹ" in text and "data-without" in text
    body = api_client_for(office).get("/api/v1/cash/coverage").json()
    assert body["total"]["communes"] == 3 and body["total"]["with_atm"] == 1
    assert [r["commune"] for r in body["without_pay_point"]] == ["Phường Vĩnh Mỹ"]
    narrowed = api_client_for(office).get(f"/api/v1/cash/coverage?area={tree.a.pk}").json()
    assert narrowed["total"]["communes"] == 1
    outsider = api_client_for(officer_b).get(f"/api/v1/cash/coverage?area={tree.a.pk}").json()
    assert outsider["total"]["communes"] == 0
