"""The one transitions map: set_state follows it whatever the sequence of requests; the generic
transition service enforces capability, checks and deadlines, and audits every step."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansinh.audit.models import AuditEvent
from ansinh.core.errors import InvalidTransition
from ansinh.payroll import services
from ansinh.payroll.models import DEADLINE_MET_AT, TRANSITIONS, CycleState, PaymentCycle
from ansinh.web.views.payroll import STEP_LABELS

from .conftest import MONTH

S = CycleState
NORMAL_PATH = [
    S.CHANGES_SUBMITTED,
    S.APPRAISED,
    S.PAYROLL_GENERATED,
    S.APPROVED,
    S.FUNDED,
    S.SENT_TO_PROVIDER,
    S.PAYING,
    S.SETTLED,
    S.CLOSED,
]


def test_the_map_names_every_state_and_only_states():
    assert set(TRANSITIONS) == set(S.values)
    for source, targets in TRANSITIONS.items():
        assert set(targets) <= set(S.values), source
    assert TRANSITIONS[S.CLOSED] == {}
    assert set(DEADLINE_MET_AT.values()) <= set(S.values)


def test_every_edge_has_a_button_label_and_a_check_until_its_part_exists():
    edges = {(s, t) for s, targets in TRANSITIONS.items() for t in targets}
    assert set(STEP_LABELS) == edges
    # no step pretends: each refuses until its data exists, or has its real checks
    real = {(S.APPRAISED, S.PAYROLL_GENERATED)}  # the payroll lines (part 3, generation.py)
    real.add((S.APPROVED, S.FUNDED))  # the funding request and the advances (part 5, funding.py)
    # approval with a TOTP code and withdrawing a draft (part 3, approval.py)
    real |= {(S.PAYROLL_GENERATED, S.APPROVED), (S.PAYROLL_GENERATED, S.APPRAISED)}
    # the communes' change lists (part 2, changelists.py)
    real |= {(S.OPEN, S.CHANGES_SUBMITTED), (S.CHANGES_SUBMITTED, S.OPEN), (S.CHANGES_SUBMITTED, S.APPRAISED)}
    # the transfer leg: the batches' files written, the bank's answers imported (disbursement.checks)
    real |= {(S.FUNDED, S.SENT_TO_PROVIDER), (S.SENT_TO_PROVIDER, S.PAYING)}
    # the provider's settlement accepted, the file sent to the finance office (reconciliation)
    real |= {(S.PAYING, S.SETTLED), (S.SETTLED, S.CLOSED)}
    assert set(services.NEEDS) == edges - real
    assert all(services.CHECKS.get(edge) for edge in edges)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(S.values + ["bogus", ""]), max_size=40))
def test_random_requests_never_leave_the_map(requests):
    cycle = PaymentCycle(state=S.OPEN)
    for wanted in requests:
        before = cycle.state
        try:
            cycle.set_state(wanted)
        except InvalidTransition:
            assert wanted not in TRANSITIONS[before]
            assert cycle.state == before
        else:
            assert wanted in TRANSITIONS[before]
            assert cycle.state == wanted
        assert cycle.state in S.values


@pytest.fixture
def cycle(world):
    services.open_cycles(actor=None, month=MONTH)
    return PaymentCycle.objects.filter(approving_unit=world.unit_a).order_by("programme__code").first()


def test_a_step_whose_data_does_not_exist_yet_is_refused_in_vietnamese(cycle, officer_a, settings):
    settings.LANGUAGE_CODE = "vi"
    from django.utils import translation

    with translation.override("vi"), pytest.raises(services.TransitionRefused) as refused:
        services.transition(actor=officer_a, cycle=cycle, to_state=S.CHANGES_SUBMITTED)
    assert "danh sách tăng, giảm, điều chỉnh" in str(refused.value)
    cycle.refresh_from_db()
    assert cycle.state == S.OPEN


def test_a_step_outside_the_map_is_refused(cycle):
    with pytest.raises(InvalidTransition):
        services.transition(actor=None, cycle=cycle, to_state=S.APPROVED)


def test_a_role_without_the_capability_cannot_take_the_step(cycle, preparer_a, officer_b, monkeypatch):
    monkeypatch.setattr(services, "CHECKS", {})
    with pytest.raises(services.TransitionForbidden):
        services.transition(actor=preparer_a, cycle=cycle, to_state=S.CHANGES_SUBMITTED)  # the commune submits
    with pytest.raises(services.TransitionForbidden):
        services.transition(actor=officer_b, cycle=cycle, to_state=S.CHANGES_SUBMITTED)  # not B's cycle


def test_the_whole_path_marks_deadlines_and_audits_every_step(
    cycle, officer_a, preparer_a, approver_a, provider_a, monkeypatch
):
    monkeypatch.setattr(services, "CHECKS", {})  # the checks later parts add are not the subject here
    who = {
        S.CHANGES_SUBMITTED: officer_a,
        S.APPROVED: approver_a,
        S.PAYING: provider_a,
    }
    for target in NORMAL_PATH:
        cycle = services.transition(actor=who.get(target, preparer_a), cycle=cycle, to_state=target, note="ok")
        for kind, state in DEADLINE_MET_AT.items():
            met = cycle.deadlines.get(kind=kind).done_at is not None
            assert met == (NORMAL_PATH.index(state) <= NORMAL_PATH.index(target)), (target, kind)
    assert cycle.state == S.CLOSED
    events = AuditEvent.objects.filter(action="payroll.cycle.transitioned", object_id=str(cycle.pk))
    assert events.count() == len(NORMAL_PATH)
    assert events.order_by("id").first().before == {"state": "open"}


def test_going_back_reopens_the_deadline(cycle, officer_a, preparer_a, monkeypatch):
    monkeypatch.setattr(services, "CHECKS", {})
    services.transition(actor=officer_a, cycle=cycle, to_state=S.CHANGES_SUBMITTED)
    assert cycle.deadlines.get(kind="commune_changes").done_at is not None
    services.transition(actor=preparer_a, cycle=cycle, to_state=S.OPEN, note="thiếu hồ sơ")
    assert cycle.deadlines.get(kind="commune_changes").done_at is None


def test_sending_to_the_provider_needs_a_contract_in_force(cycle, monkeypatch):
    monkeypatch.setattr(services, "CHECKS", {})
    for target in NORMAL_PATH[:5]:
        cycle = services.transition(actor=None, cycle=cycle, to_state=target)
    check = services._contract_in_force
    assert "hợp đồng" in check(cycle) or "contract" in check(cycle)
