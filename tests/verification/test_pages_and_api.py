"""The verification pages and API: police start a run and read results with masked CCCDs; the
commune officer sees the stop proposal on the beneficiary page and reaches the prefilled
stop-decision form; another commune sees nothing."""

from __future__ import annotations

from django.urls import reverse

from ansinh.registry.models import Status
from ansinh.verification.models import VerificationRun
from ansinh.verification.services import run_verification


def test_police_start_a_run_and_read_masked_results(client_for, people, police_a, tree):
    client = client_for(police_a)
    page = client.get(reverse("verification:list"))
    assert page.status_code == 200
    assert f'value="{tree.a.pk}"' in page.content.decode()

    response = client.post(reverse("verification:start"), {"commune": tree.a.pk})
    run = VerificationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("verification:run", args=[run.pk])

    html = client.get(reverse("verification:run", args=[run.pk])).content.decode()
    for person in (people.match, people.mismatch, people.dead):
        assert person.full_name in html
        assert person.cccd not in html
        assert "*" * 8 + person.cccd[-4:] in html
    mismatches = client.get(reverse("verification:run", args=[run.pk]), {"outcome": "mismatch"}).content.decode()
    assert people.mismatch.full_name in mismatches and people.match.full_name not in mismatches


def test_police_of_b_reach_nothing_of_a(client_for, people, police_a, police_b, tree):
    run = run_verification(actor=police_a, commune=tree.a)
    client = client_for(police_b)
    assert client.get(reverse("verification:run", args=[run.pk])).status_code == 404
    assert people.match.full_name not in client.get(reverse("verification:list")).content.decode()
    assert client.post(reverse("verification:start"), {"commune": tree.a.pk}).status_code == 404
    assert VerificationRun.objects.count() == 1


def test_an_officer_may_read_but_not_run(client_for, people, officer_a, tree):
    client = client_for(officer_a)
    assert client.get(reverse("verification:list")).status_code == 200
    assert client.post(reverse("verification:start"), {"commune": tree.a.pk}).status_code == 403
    assert not VerificationRun.objects.exists()


def test_the_officer_confirms_a_stop_proposal_through_the_prefilled_form(client_for, people, police_a, officer_a, tree):
    run_verification(actor=police_a, commune=tree.a)
    client = client_for(officer_a)
    detail = client.get(reverse("registry:detail", args=[people.dead.pk])).content.decode()
    assert 'data-section="stop-proposal"' in detail
    stop_link = (
        reverse("registry:decision", args=[people.dead.pk]) + "?kind=stop&amp;reason=died&amp;death_date=15%2F03%2F2026"
    )
    assert stop_link in detail

    form = client.get(stop_link.replace("&amp;", "&")).content.decode()
    assert '<option value="stop" selected>' in form
    assert '<option value="died" selected>' in form
    assert 'value="15/03/2026"' in form
    people.dead.refresh_from_db()
    assert people.dead.status == Status.ACTIVE  # showing the proposal changed nothing

    response = client.post(
        reverse("registry:decision", args=[people.dead.pk]),
        {
            "kind": "stop",
            "number": "12/QĐ-UBND",
            "signed_on": "20/03/2026",
            "reason": "died",
            "death_date": "15/03/2026",
            "cat-TOTAL_FORMS": "0",
            "cat-INITIAL_FORMS": "0",
            "cat-MIN_NUM_FORMS": "0",
            "cat-MAX_NUM_FORMS": "5",
        },
    )
    assert response.status_code == 302
    people.dead.refresh_from_db()
    assert people.dead.status == Status.STOPPED
    detail = client.get(reverse("registry:detail", args=[people.dead.pk])).content.decode()
    assert 'data-section="stop-proposal"' not in detail


def test_a_mismatch_is_shown_to_the_commune_officer(client_for, people, police_a, officer_a, tree):
    run_verification(actor=police_a, commune=tree.a)
    detail = client_for(officer_a).get(reverse("registry:detail", args=[people.mismatch.pk])).content.decode()
    assert 'data-section="identity"' in detail


def test_api_runs_and_results(api_client_for, people, police_a, police_b, officer_b, tree):
    api = api_client_for(police_a)
    created = api.post("/api/v1/verification/runs", {"commune_id": tree.a.pk}, content_type="application/json")
    assert created.status_code == 201, created.content
    run = created.json()
    assert (run["checked"], run["sequence"], run["source"]) == (5, 1, "sandbox")

    assert [r["id"] for r in api.get("/api/v1/verification/runs").json()] == [run["id"]]
    results = api.get(f"/api/v1/verification/runs/{run['id']}/results", {"outcome": "deceased"}).json()
    assert results["count"] == 1
    item = results["items"][0]
    assert item["beneficiary_id"] == people.dead.pk and item["stop_proposed"] and item["death_date"] == "2026-03-15"
    assert item["cccd_masked"].endswith(people.dead.cccd[-4:]) and people.dead.cccd not in str(results)

    other = api_client_for(police_b)
    assert other.get(f"/api/v1/verification/runs/{run['id']}").status_code == 404
    assert other.get(f"/api/v1/verification/runs/{run['id']}/results").status_code == 404
    assert other.get("/api/v1/verification/runs").json() == []
    refused = other.post("/api/v1/verification/runs", {"commune_id": tree.a.pk}, content_type="application/json")
    assert refused.status_code == 404
    officer = api_client_for(officer_b)
    own = officer.post("/api/v1/verification/runs", {"commune_id": tree.b.pk}, content_type="application/json")
    assert own.status_code == 403
    assert VerificationRun.objects.count() == 1
