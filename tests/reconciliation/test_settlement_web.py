"""Settlement pages and API (ansinh.web.views.settlement, ansinh.api.reconciliation): the provider
submits, the office accepts, a reader is refused (403, nothing written), another commune's cycle
is a 404; the monthly lists page, its XLSX (logged) and the API JSON with masked CCCDs."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from ansinh.audit.models import AuditEvent
from ansinh.payroll.models import CycleState
from ansinh.reconciliation.models import ProviderSettlement
from tests.reconciliation.settlement_fixtures import *  # noqa: F403
from tests.reconciliation.settlement_fixtures import ACCOUNT_PERSON, HOME_PEOPLE, PAY_POINT_PEOPLE, amount_of


def test_provider_submits_office_accepts_through_the_pages(client_for, paid_cycle, provider_a, preparer_a):
    url = reverse("reconciliation:settlement", args=[paid_cycle.pk])
    page = client_for(provider_a).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert ACCOUNT_PERSON in html and "Gửi quyết toán" in html and "20.000" in html
    printed = client_for(provider_a).get(reverse("reconciliation:settlement_print", args=[paid_cycle.pk]))
    assert printed.status_code == 200 and "CỘNG HÒA" in printed.content.decode().upper()
    assert ACCOUNT_PERSON in printed.content.decode()
    response = client_for(provider_a).post(reverse("reconciliation:settlement_submit", args=[paid_cycle.pk]))
    assert response.status_code == 302
    assert ProviderSettlement.objects.get(cycle=paid_cycle).state == "submitted"
    response = client_for(preparer_a).post(reverse("reconciliation:settlement_accept", args=[paid_cycle.pk]))
    assert response.status_code == 302
    paid_cycle.refresh_from_db()
    assert paid_cycle.state == CycleState.SETTLED
    page = client_for(preparer_a).get(url)
    assert "Quyết toán với phòng Tài chính" in page.content.decode()
    xlsx = client_for(preparer_a).get(reverse("reconciliation:office_xlsx", args=[paid_cycle.pk]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    response = client_for(preparer_a).post(
        reverse("reconciliation:office_sent", args=[paid_cycle.pk]), {"reference": "QT-03/2026"}
    )
    paid_cycle.refresh_from_db()
    assert paid_cycle.state == CycleState.CLOSED


def test_reader_gets_403_and_other_commune_404(client_for, paid_cycle, viewer_a, officer_b):
    for name in ("settlement_submit", "settlement_accept", "settlement_return", "office_sent"):
        response = client_for(viewer_a).post(reverse(f"reconciliation:{name}", args=[paid_cycle.pk]))
        assert response.status_code == 403, name
    assert not ProviderSettlement.objects.exists()
    assert client_for(viewer_a).get(reverse("reconciliation:settlement", args=[paid_cycle.pk])).status_code == 200
    for name in ("settlement", "settlement_xlsx", "settlement_print", "office_xlsx"):
        response = client_for(officer_b).get(reverse(f"reconciliation:{name}", args=[paid_cycle.pk]))
        assert response.status_code == 404, name
    response = client_for(officer_b).post(reverse("reconciliation:settlement_submit", args=[paid_cycle.pk]))
    assert response.status_code == 404
    lists_url = reverse("reconciliation:settlement_lists")
    assert client_for(officer_b).get(lists_url, {"cycle_id": paid_cycle.pk}).status_code == 404


def test_monthly_lists_page_xlsx_and_api(client_for, api_client_for, paid_cycle, officer_a, viewer_a, world):
    from ansinh.registry.models import Beneficiary

    person = Beneficiary.objects.get(full_name=HOME_PEOPLE[1])
    person.cccd = "089150001234"
    person.save(update_fields=["cccd"])
    params = {"kind": "not_paid", "area_id": world.tree.a.pk, "month": "2026-03"}
    page = client_for(officer_a).get(reverse("reconciliation:settlement_lists"), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert HOME_PEOPLE[1] in html and PAY_POINT_PEOPLE[2] in html and ACCOUNT_PERSON not in html
    assert "089150001234" in html  # the commune officer may see CCCDs
    page = client_for(viewer_a).get(reverse("reconciliation:settlement_lists"), params)
    html = page.content.decode()
    assert "089150001234" not in html and "********1234" in html  # the province monitor may not
    xlsx = client_for(viewer_a).get(reverse("reconciliation:settlement_lists_xlsx"), params)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert HOME_PEOPLE[1] in values and "********1234" in values and "089150001234" not in values
    assert amount_of(paid_cycle, HOME_PEOPLE[1]) in values
    assert AuditEvent.objects.filter(action="reconciliation.list.exported").count() == 1

    api = api_client_for(officer_a)
    body = api.get("/api/v1/reconciliation/lists", {"kind": "home_or_representative", "cycle_id": paid_cycle.pk}).json()
    assert body["people"] == 2 and {r["name"] for r in body["rows"]} == {PAY_POINT_PEOPLE[1], HOME_PEOPLE[0]}
    assert all("cccd" not in r for r in body["rows"])
    other = api_client_for(viewer_a).get("/api/v1/reconciliation/lists", {"kind": "not_paid", "month": "2026-03"})
    assert other.status_code == 200 and other.json()["people"] == 2  # the user's own areas that month
    statement = api.get(f"/api/v1/reconciliation/settlements/{paid_cycle.pk}").json()
    assert statement["fee"] == 20_000 and statement["state"] == "none" and statement["blockers"] == []
    refused = api.post(
        f"/api/v1/reconciliation/settlements/{paid_cycle.pk}/submit",
        {"purpose": "regular"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert not ProviderSettlement.objects.exists()


def test_api_submit_and_accept(api_client_for, paid_cycle, provider_a, preparer_a, officer_b):
    url = f"/api/v1/reconciliation/settlements/{paid_cycle.pk}"
    assert api_client_for(officer_b).get(url).status_code == 404
    done = api_client_for(provider_a).post(f"{url}/submit", {"purpose": "regular"}, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "submitted"
    done = api_client_for(preparer_a).post(f"{url}/accept", {"purpose": "regular"}, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "accepted"
    paid_cycle.refresh_from_db()
    assert paid_cycle.state == CycleState.SETTLED


def test_the_page_shows_the_first_rows_and_the_print_every_row(client_for, paid_cycle, preparer_a, monkeypatch):
    from ansinh.web.views import settlement as views

    monkeypatch.setattr(views, "SHOWN_ROWS", 1)
    client = client_for(preparer_a)
    page = client.get(reverse("reconciliation:settlement", args=[paid_cycle.pk])).content.decode()
    printed = client.get(reverse("reconciliation:settlement_print", args=[paid_cycle.pk])).content.decode()
    names = (*PAY_POINT_PEOPLE, *HOME_PEOPLE)
    assert sum(n in printed for n in names) > sum(n in page for n in names)
    assert "xem cả danh sách" in page and "xem cả danh sách" not in printed
