"""Verification runs: outcomes stored with date and source, versioned runs, scoping, and a
deceased result that proposes a stop without stopping anyone."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from ansinh.audit.models import AuditEvent
from ansinh.registry import services as registry
from ansinh.registry.models import DecisionKind, Status, StopReason
from ansinh.verification import queries
from ansinh.verification.adapters import ADAPTERS, AdapterError
from ansinh.verification.models import Outcome, VerificationResult, VerificationRun
from ansinh.verification.services import run_verification


def _outcomes(run) -> dict:
    return {r.full_name: (r.outcome, r.mismatched_fields, r.death_date) for r in run.results.all()}


def test_run_stores_one_result_per_person_with_source_and_counts(people, police_a, tree):
    run = run_verification(actor=police_a, commune=tree.a)

    assert _outcomes(run) == {
        "Lê Văn Khớp": ("match", [], None),
        "Lê Thị Con": ("match", [], None),
        "Trần Thị Lệch": ("mismatch", ["full_name", "birth_date"], None),
        "Phạm Văn Lạ": ("not_found", [], None),
        "Võ Thị Mất": ("deceased", [], date(2026, 3, 15)),
    }
    assert run.summary() | {"run": 0} == {
        "run": 0,
        "commune": "30280",
        "date": run.run_date.isoformat(),
        "sequence": 1,
        "source": "sandbox",
        "checked": 5,
        "match": 2,
        "mismatch": 1,
        "not_found": 1,
        "deceased": 1,
        "without_cccd": 1,
    }
    assert set(run.results.values_list("source", flat=True)) == {"sandbox"}
    assert all(r.checked_at for r in run.results.all())
    assert AuditEvent.objects.filter(action="identity.verified", object_id=str(run.pk)).count() == 1


def test_a_second_run_the_same_day_is_a_new_version_and_leaves_the_first(people, police_a, tree):
    first = run_verification(actor=police_a, commune=tree.a)
    before = list(first.results.values_list("id", "outcome"))
    second = run_verification(actor=police_a, commune=tree.a)

    assert (first.sequence, second.sequence) == (1, 2)
    assert list(first.results.values_list("id", "outcome")) == before
    assert _outcomes(second) == _outcomes(first)
    assert VerificationResult.objects.count() == 2 * len(before)


def test_deceased_proposes_a_stop_but_never_stops_anyone(people, police_a, tree, officer_a):
    run = run_verification(actor=police_a, commune=tree.a)
    dead = people.dead
    dead.refresh_from_db()

    assert dead.status == Status.ACTIVE
    assert dead.decisions.count() == 1  # the start decision only
    assert dead.death_date is None
    proposal = queries.stop_proposal(dead)
    assert proposal is not None and proposal.run == run and proposal.death_date == date(2026, 3, 15)
    assert not run.results.filter(stop_proposed=True).exclude(beneficiary=dead).exists()

    registry.record_decision(
        actor=officer_a,
        beneficiary=dead,
        kind=DecisionKind.STOP,
        number="9/QĐ-STOP",
        signed_on=date(2026, 3, 20),
        reason=StopReason.DIED,
        death_date=proposal.death_date,
    )
    dead.refresh_from_db()
    assert dead.status == Status.STOPPED
    assert queries.stop_proposal(dead) is None  # confirmed by the officer's decision


def test_stopped_people_are_not_checked_again(people, police_a, tree, officer_a):
    registry.record_decision(
        actor=officer_a,
        beneficiary=people.dead,
        kind=DecisionKind.STOP,
        number="9/QĐ-STOP",
        signed_on=date(2026, 3, 20),
        reason=StopReason.DIED,
        death_date=date(2026, 3, 15),
    )
    run = run_verification(actor=police_a, commune=tree.a)
    assert "Võ Thị Mất" not in _outcomes(run)


def test_only_police_of_the_commune_may_run(people, police_b, officer_a, tree):
    for user in (police_b, officer_a):
        with pytest.raises(PermissionDenied):
            run_verification(actor=user, commune=tree.a)
    assert not VerificationRun.objects.exists()


def test_police_of_b_see_nothing_of_a(people, police_a, police_b, tree):
    run_a = run_verification(actor=police_a, commune=tree.a)
    run_b = run_verification(actor=police_b, commune=tree.b)

    assert list(queries.runs_for(police_b)) == [run_b]
    assert set(queries.results_for(police_b).values_list("run", flat=True)) == {run_b.pk}
    assert list(queries.runs_for(police_a)) == [run_a]


def test_the_commune_officer_reads_the_results_of_their_commune(people, police_a, officer_a, officer_b, tree):
    run = run_verification(actor=police_a, commune=tree.a)
    assert list(queries.runs_for(officer_a)) == [run]
    assert not queries.runs_for(officer_b).exists()
    assert not queries.results_for(officer_b).exists()


def test_an_adapter_failure_stores_nothing(people, police_a, tree, monkeypatch):
    class Failing:
        source = "failing"
        batch_size = 500

        def verify(self, items):
            raise AdapterError("down")

    monkeypatch.setitem(ADAPTERS, "failing", Failing)
    with pytest.raises(AdapterError):
        run_verification(actor=police_a, commune=tree.a, adapter_name="failing")
    assert not VerificationRun.objects.exists()
    assert not VerificationResult.objects.exists()


def test_large_communes_are_sent_in_chunks(people, police_a, tree, monkeypatch):
    from ansinh.verification import services

    sizes = []
    real = ADAPTERS["sandbox"]

    class Counting:
        source = "sandbox"
        batch_size = 2

        def verify(self, items):
            sizes.append(len(items))
            return real().verify(items)

    monkeypatch.setattr(services, "CHUNK", 2)
    monkeypatch.setitem(ADAPTERS, "counting", Counting)
    run = run_verification(actor=police_a, commune=tree.a, adapter_name="counting")
    assert max(sizes) == 2 and sum(sizes) == run.checked == 5


def test_command_prints_a_json_summary(people, police_a, tree):
    out = io.StringIO()
    call_command("verify_identities", "--area", "30280", "--user", "police_a", stdout=out)
    summary = json.loads(out.getvalue())
    run = VerificationRun.objects.get()
    assert summary == run.summary()
    assert (summary["checked"], summary["mismatch"], summary["deceased"], summary["not_found"]) == (5, 1, 1, 1)
    assert run.started_by == police_a


def test_command_refuses_a_user_who_may_not_verify_there(people, police_b, tree):
    with pytest.raises(PermissionDenied):
        call_command("verify_identities", "--area", "30280", "--user", "police_b", stdout=io.StringIO())


def test_outcome_values_are_the_protocol_statuses():
    assert set(Outcome.values) == {"match", "mismatch", "not_found", "deceased"}
