"""The demo after the 2025 reform: every demo officer who registers people finds their commune
(valid today) in the create form, a registration saved through the form shows in their list, and
a beneficiary's page shows the commune before and after the reform."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from ansinh.accounts import access
from ansinh.accounts.models import RoleAssignment, User
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level, ReformRun
from ansinh.demo import organisations
from ansinh.demo import registry as demo_registry
from ansinh.demo.management.commands import load_demo as load_demo_command
from ansinh.registry.models import Beneficiary
from tests.factories import cccd_for


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(demo_registry, "DEMO_TARGETS", {"884": 6, "890": 4})
    # the payment cycles' history is not this test's subject (tests/payroll/test_demo.py)
    monkeypatch.setattr(load_demo_command, "load_demo_cycles", lambda: {})
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def _form(commune_id: int, n: int) -> dict:
    birth = date(1950, 3, 4 + n)
    return {
        "commune": commune_id,
        "village": "",
        "full_name": f"Đỗ Văn Thử {chr(65 + n)}",
        "birth_date": birth.isoformat(),
        "gender": "male",
        "cccd": cccd_for(birth, "male", tail=f"77{n:04d}"),
        "phone": "",
        "ethnicity": "Kinh",
        "address": "",
        "decision_number": f"{n + 1}/QĐ-UBND",
        "decision_date": "2026-05-04",
        "start_month": "2026-05",
        "cat-TOTAL_FORMS": "1",
        "cat-INITIAL_FORMS": "0",
        "cat-MIN_NUM_FORMS": "0",
        "cat-MAX_NUM_FORMS": "5",
        "cat-0-entitlement": "D20.5.6|severe:adult|",
        "cat-0-units": "1",
    }


def test_every_demo_officer_registers_someone_in_their_commune_through_the_form(demo, client):
    editors = [
        u
        for u in User.objects.filter(username__in=[row[0] for row in organisations.current_demo_users()])
        if Cap.REGISTRY_EDIT in access.capabilities(u)
    ]
    assert {u.username for u in editors} >= {"canbo.xa", "canbo.tinhbien"}
    for n, user in enumerate(editors):
        client.force_login(user)
        commune = RoleAssignment.objects.active().get(user=user, area__level=Level.COMMUNE, role="commune_officer").area
        form = client.get("/beneficiaries/new/")
        assert form.status_code == 200
        assert f'<option value="{commune.pk}"' in form.content.decode(), user.username
        data = _form(commune.pk, n)
        response = client.post("/beneficiaries/new/", data)
        assert response.status_code == 302, (user.username, response.content.decode()[:2000])
        listed = client.get("/beneficiaries/", {"q": data["full_name"]})
        assert data["full_name"] in listed.content.decode(), user.username
        assert Beneficiary.objects.get(full_name=data["full_name"]).commune == commune


def test_the_demo_went_through_the_reform_and_a_record_shows_both_communes(demo, client):
    assert ReformRun.objects.count() == 1
    b = Beneficiary.objects.filter(legacy_commune__isnull=False, commune__code="30316").first()
    client.force_login(User.objects.get(username="canbo.xa"))
    page = client.get(f"/beneficiaries/{b.pk}/").content.decode()
    assert b.legacy_commune.full_name in page and b.commune.full_name in page
    assert "data-legacy-commune" in page
