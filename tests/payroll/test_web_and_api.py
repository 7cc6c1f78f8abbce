"""The pages and the API of the payment cycle: scoped to the user's areas (another commune's
cycle is a 404), steps only for the roles that may take them, the calendar and contracts."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from ansinh.accounts.roles import Role
from ansinh.payroll.models import PaymentCalendar, PaymentCycle, ProviderContract
from ansinh.payroll.services import open_cycles
from tests.conftest import make_user

from .conftest import MONTH


@pytest.fixture
def cycles(world):
    open_cycles(actor=None, month=MONTH)
    a = PaymentCycle.objects.filter(approving_unit=world.unit_a).order_by("programme__code").first()
    b = PaymentCycle.objects.filter(approving_unit=world.unit_b).order_by("programme__code").first()
    return a, b


def test_the_list_shows_the_users_cycles_only(cycles, client_for, officer_a, officer_b):
    a, b = cycles
    page = client_for(officer_a).get(reverse("payroll:cycles"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "UBND Châu Phú A" in text and "UBND Vĩnh Mỹ" not in text
    assert "Việc cần làm" in text or "To do" in text
    assert reverse("payroll:cycle", args=[a.pk]) in text


def test_another_communes_cycle_is_a_404(cycles, client_for, officer_b):
    a, _b = cycles
    client = client_for(officer_b)
    assert client.get(reverse("payroll:cycle", args=[a.pk])).status_code == 404
    assert client.post(reverse("payroll:transition", args=[a.pk]), {"to_state": "changes_submitted"}).status_code == 404


def test_buttons_only_for_the_roles_that_may(cycles, client_for, officer_a, viewer_a, preparer_a):
    a, _b = cycles
    url = reverse("payroll:cycle", args=[a.pk])
    assert 'value="changes_submitted"' in client_for(officer_a).get(url).content.decode()
    assert 'value="changes_submitted"' not in client_for(preparer_a).get(url).content.decode()
    viewer = client_for(viewer_a)
    assert 'name="to_state"' not in viewer.get(url).content.decode()
    assert viewer.post(reverse("payroll:transition", args=[a.pk]), {"to_state": "changes_submitted"}).status_code == 403


def test_a_refused_step_says_why_and_changes_nothing(cycles, client_for, officer_a):
    a, _b = cycles
    response = client_for(officer_a).post(
        reverse("payroll:transition", args=[a.pk]), {"to_state": "changes_submitted"}, follow=True
    )
    assert response.status_code == 200
    assert "danh sách tăng, giảm, điều chỉnh" in response.content.decode()
    a.refresh_from_db()
    assert a.state == "open"


def test_the_api_lists_gets_and_refuses(cycles, api_client_for, officer_a, officer_b, viewer_a):
    a, b = cycles
    client = api_client_for(officer_a)
    listed = client.get("/api/v1/payroll/cycles", {"month": "2026-02", "state": "open"}).json()
    assert listed["count"] == PaymentCycle.objects.filter(approving_unit=a.approving_unit).count()
    assert {c["approving_unit_id"] for c in listed["items"]} == {a.approving_unit_id}
    assert client.get("/api/v1/payroll/cycles", {"area_id": b.area_id}).json()["count"] == 0
    one = client.get(f"/api/v1/payroll/cycles/{a.pk}").json()
    assert len(one["deadlines"]) == 5 and one["allowed_transitions"] == ["changes_submitted"]
    refused = client.post(
        f"/api/v1/payroll/cycles/{a.pk}/transitions", {"to_state": "changes_submitted"}, content_type="application/json"
    )
    assert refused.status_code == 422
    outsider = api_client_for(officer_b)
    assert outsider.get(f"/api/v1/payroll/cycles/{a.pk}").status_code == 404
    viewer = api_client_for(viewer_a)
    response = viewer.post(
        f"/api/v1/payroll/cycles/{a.pk}/transitions", {"to_state": "changes_submitted"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_the_calendar_is_changed_by_an_administrator_of_the_province(world, tree, client_for, preparer_a):
    admin = make_user("quantri_a", Role.SYSADMIN, tree.province)
    page = client_for(preparer_a).get(reverse("payroll:calendar"))
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert client_for(preparer_a).post(reverse("payroll:calendar"), {"province": tree.province.pk}).status_code == 403
    form = {
        "province": tree.province.pk,
        "commune_changes_day": 3,
        "payroll_funding_day": 5,
        "transfers_day": 9,
        "provider_settlement_day": 20,
        "office_settlement_day": 25,
        "non_working_rule": "next",
        "remind_days_before": 2,
    }
    response = client_for(admin).post(reverse("payroll:calendar"), form)
    assert response.status_code == 302
    assert PaymentCalendar.objects.get(province=tree.province).transfers_day == 9


def test_the_office_records_a_contract_and_the_commune_reads_it(world, tree, client_for, preparer_a, officer_b):
    client = client_for(preparer_a)
    assert client.get(reverse("payroll:contract_create")).status_code == 200
    form = {
        "number": "HĐ-05/2026",
        "paying_unit": world.unit_a.pk,
        "provider": world.post.pk,
        "areas": [tree.a.pk],
        "purpose": "regular",
        "valid_from": "01/01/2026",
        "valid_to": "31/12/2026",
        "covers_account": "on",
        "fee_kind": "flat",
        "fee_flat": 5000,
        "fee_basis_points": 0,
        "transfer_day": 8,
        "payment_day": 15,
        "settlement_day": 20,
    }
    response = client.post(reverse("payroll:contract_create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    contract = ProviderContract.objects.get()
    assert contract.valid_to == date(2026, 12, 31) and contract.channels == ["account"]
    assert "HĐ-05/2026" in client.get(reverse("payroll:contracts")).content.decode()
    outsider = client_for(officer_b)
    assert outsider.get(reverse("payroll:contract", args=[contract.pk])).status_code == 404
    assert outsider.post(reverse("payroll:contract_create"), form).status_code == 403


def test_the_list_reads_a_bounded_number_of_queries(world, tree, client_for, viewer_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ansinh.accounts.models import Function, OrgKind
    from ansinh.accounts.services import assign_responsibility, create_org_unit
    from ansinh.areas.models import Area, Level, Tree

    monitor = make_user("so_tinh", Role.PROVINCE_MONITOR, tree.province)
    client = client_for(monitor)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("payroll:cycles")).status_code == 200
            assert client.get("/api/v1/payroll/cycles").status_code in (200, 401)
        return len(queries)

    open_cycles(actor=None, month=MONTH)
    small = count()
    for i in range(8):
        commune = Area.objects.create(tree=Tree.LEGACY, level=Level.COMMUNE, name=f"Xã {i}", parent=tree.district)
        unit = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name=f"UBND Xã {i}", area=commune)
        assign_responsibility(actor=None, org_unit=unit, area=commune, function=Function.APPROVE)
    open_cycles(actor=None, month=MONTH)
    assert count() == small
