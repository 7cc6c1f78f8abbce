"""The system administrator (a superuser holding the sysadmin role on the province, as in the
demo) manages users and settings and may read the registry, but registers, corrects, imports
and decides nothing: each case-work page and endpoint answers 403 and writes nothing."""

from datetime import date

import pytest
from django.urls import reverse

from ansinh.accounts.models import RoleAssignment, User
from ansinh.accounts.roles import Role
from ansinh.registry.models import Beneficiary, Decision, Representation
from ansinh.web import navigation
from tests.api.conftest import register  # noqa: F401  (fixture)
from tests.factories import cccd_for


@pytest.fixture
def admin(tree):
    user = User.objects.create_superuser(username="quantri", password=None)
    RoleAssignment.objects.create(user=user, role=Role.SYSADMIN, area=tree.province)
    return user


@pytest.fixture
def beneficiary(register):  # noqa: F811
    person = {
        "full_name": "Trần Văn Bảo",
        "birth_date": date(1975, 3, 4),
        "gender": "male",
        "cccd": cccd_for(date(1975, 3, 4), "male", "777001"),
    }
    return register(representatives=[{"person": person, "kind": "authorised"}])


def counts() -> tuple[int, ...]:
    return (Beneficiary.objects.count(), Decision.objects.count(), Representation.objects.count())


def test_the_administrators_menu_has_no_import(admin):
    keys = [item.key for item in navigation.menu_for(admin)]
    assert "registry" in keys and "audit" in keys
    assert "imports" not in keys


def test_the_administrator_reads_the_registry_with_cccd_masked(client_for, admin, beneficiary):
    client = client_for(admin)
    detail = client.get(reverse("registry:detail", args=[beneficiary.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert beneficiary.full_name in body
    assert beneficiary.cccd not in body
    assert reverse("registry:edit", args=[beneficiary.pk]) not in body
    assert reverse("registry:decision", args=[beneficiary.pk]) not in body
    assert client.get(reverse("registry:list")).status_code == 200


def test_the_administrator_cannot_open_or_submit_case_work_pages(client_for, admin, beneficiary, tree):
    client = client_for(admin)
    link = beneficiary.representations.get()
    pages = [
        reverse("registry:create"),
        reverse("registry:edit", args=[beneficiary.pk]),
        reverse("registry:decision", args=[beneficiary.pk]),
        reverse("registry:representative_add", args=[beneficiary.pk]),
        reverse("registry:representative_end", args=[beneficiary.pk, link.pk]),
        reverse("imports:index"),
        reverse("imports:template"),
    ]
    before = counts()
    for url in pages:
        assert client.get(url).status_code == 403, url
    body = {
        "full_name": "Lê Văn Mới",
        "commune": tree.a.pk,
        "kind": "suspend",
        "number": "9/QĐ",
        "signed_on": "01/02/2025",
        "effective_month": "02/2025",
    }
    for url in [*pages[:-1], reverse("registry:payee", args=[beneficiary.pk])]:
        assert client.post(url, body).status_code == 403, url
    assert counts() == before
    assert Representation.objects.get(pk=link.pk).ended_at is None


def test_the_administrator_cannot_write_through_the_api(api_client_for, admin, beneficiary, tree):
    client = api_client_for(admin)
    base = f"/api/v1/beneficiaries/{beneficiary.pk}"
    link = beneficiary.representations.get()
    assert client.get(base).status_code == 200
    assert client.get(base).json()["cccd_masked"] is True
    before = counts()
    birth = date(1948, 2, 3)
    writes = [
        (
            "post",
            "/api/v1/beneficiaries",
            {
                "full_name": "Lê Văn Cường",
                "birth_date": birth.isoformat(),
                "gender": "male",
                "commune_id": tree.a.pk,
                "cccd": cccd_for(birth, "male", "654321"),
                "categories": [{"code": "D20.5.6", "condition": "severe:adult"}],
                "decision_number": "21/QĐ-UBND",
                "decision_date": "2025-06-05",
            },
        ),
        ("patch", base, {"address": "Số 3"}),
        ("post", f"{base}/decisions", {"kind": "suspend", "number": "9/QĐ", "signed_on": "2025-02-01"}),
        (
            "post",
            f"{base}/representatives",
            {"full_name": "Phan Thị Dung", "birth_date": "1980-01-01", "gender": "female", "kind": "authorised"},
        ),
        ("post", f"{base}/payee", {"representation_id": link.pk}),
        ("delete", f"{base}/representatives/{link.pk}", None),
    ]
    for method, url, payload in writes:
        response = getattr(client, method)(url, payload, content_type="application/json")
        assert response.status_code == 403, (method, url, response.content)
    assert counts() == before
    me = client.get("/api/v1/me").json()
    assert "registry.edit" not in me["capabilities"] and "registry.view" in me["capabilities"]
