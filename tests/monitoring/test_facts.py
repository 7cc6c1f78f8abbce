"""The aggregate tables (ansinh.reports.facts) behind the dashboard and the statutory reports:
marked stale by the database on every write, computed again by `refresh`, and giving the same
figures as the source tables after any sequence of writes."""

from datetime import UTC, date, datetime

import pytest

from ansinh.reports import facts, kpis
from ansinh.reports.models import CommuneMonthFact, StaleFact

from .conftest import M, _account, _person, transfer_of

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 3)


def _board(tree, use_facts):
    return kpis.dashboard(
        paths=[tree.district.path],
        area=tree.district,
        units=kpis.child_units(tree.district),
        month=M,
        today=TODAY,
        use_facts=use_facts,
    ).as_dict()


def _same(tree):
    assert _board(tree, True) == _board(tree, False)


def test_writes_mark_and_refresh_clears(tree, month_world):
    facts.refresh()
    assert not StaleFact.objects.exists()
    person = _person("Người Mới", tree.a, tail="000011")
    assert StaleFact.objects.filter(commune_id=tree.a.pk, month=facts.WHOLE).exists()
    facts.refresh()
    assert not StaleFact.objects.exists()
    _account(person, date(2026, 6, 1))
    assert StaleFact.objects.filter(commune_id=tree.a.pk, month=facts.WHOLE).exists()
    assert facts.refresh() == 1


def _transfer(person, amount, state):
    """A line of the month's cycle for `person` and its transfer in `state`."""
    from ansinh.disbursement.models import ProviderBatch
    from ansinh.payroll.models import PaymentCycle, PayrollLine

    cycle = PaymentCycle.objects.get(month=M)
    line = PayrollLine.objects.create(
        cycle=cycle,
        beneficiary=person,
        amount=amount,
        payee_name=person.full_name,
        channel="account",
        commune=person.commune,
        area_path=person.area_path,
    )
    return transfer_of(line, ProviderBatch.objects.get(cycle=cycle), state)


def _credit(instruction):
    """The transfer credited: its payout, and the ledger's entry (append-only, checked)."""
    from django.db import transaction

    from ansinh.disbursement.models import Payout
    from ansinh.reconciliation import ledger

    with transaction.atomic():
        instruction.state = "credited"
        instruction.save(update_fields=["state"])
        Payout.objects.create(
            instruction=instruction,
            line=instruction.line,
            channel="account",
            amount=instruction.amount,
            paid_at=datetime(2026, 11, 12, 3, tzinfo=UTC),
            area_path=instruction.area_path,
        )
        ledger.on_payouts(actor=None, line_ids=[instruction.line_id])


def test_the_facts_follow_every_kind_of_write(tree, month_world):
    from ansinh.registry.models import Beneficiary

    _same(tree)
    fact = CommuneMonthFact.objects.get(commune=tree.a, month=M)
    assert (fact.account_people, fact.account_amount, fact.cash_amount, fact.holders_paid) == (1, 500_000, 400_000, 1)
    # a new person with an account: a transfer in flight, then credited
    person = _person("Người Mới", tree.b, tail="000012")
    _account(person, date(2026, 7, 1))
    sent = _transfer(person, 700_000, "sent")
    _same(tree)
    fact = CommuneMonthFact.objects.get(commune=tree.b, month=M)
    assert (fact.account_people, fact.flight_amount, fact.payroll_amount) == (1, 700_000, 1_300_000)
    _credit(sent)
    _same(tree)
    fact = CommuneMonthFact.objects.get(commune=tree.b, month=M)
    assert (fact.account_people, fact.account_amount, fact.flight_amount, fact.holders_paid) == (2, 1_300_000, 0, 2)
    # the person stops before the month: no longer receiving nor a holder paid
    Beneficiary.objects.filter(pk=person.pk).update(end_month=date(2026, 10, 1))
    _same(tree)
    assert CommuneMonthFact.objects.get(commune=tree.b, month=M).holders_paid == 1
    # an account closed: the holder is no longer one
    Beneficiary.objects.get(full_name="Nguyễn Thị Một").receiving_accounts.update(status="closed")
    _same(tree)
    assert CommuneMonthFact.objects.get(commune=tree.a, month=M).holders_paid == 0


def test_a_mark_raised_during_a_refresh_survives_it(tree, month_world, monkeypatch):
    """A write committed while a refresh computes raises the mark's version: the refresh leaves
    the mark for the next one instead of losing the write."""
    facts.refresh()
    _person("Người Mới", tree.a, tail="000013")
    real = facts._refresh_groups

    def and_a_write_meanwhile(communes):
        real(communes)
        _person("Người Nữa", tree.a, tail="000014")

    monkeypatch.setattr(facts, "_refresh_groups", and_a_write_meanwhile)
    facts.refresh()
    assert StaleFact.objects.filter(commune_id=tree.a.pk, month=facts.WHOLE, version=2).exists()
    monkeypatch.setattr(facts, "_refresh_groups", real)
    facts.refresh()
    assert not StaleFact.objects.exists()
    _same(tree)


def _all_facts():
    from ansinh.reports.models import CommuneGroupFact, PersonYearFact

    return (
        sorted(CommuneMonthFact.objects.values_list("commune_id", "month", "account_amount", "holders_paid")),
        sorted(PersonYearFact.objects.values_list("beneficiary_id", "commune_id", "year", "paid_mask", "flight_mask")),
        sorted(CommuneGroupFact.objects.values_list("commune_id", "start_month", "end_month", "first_account_month")),
    )


def test_rebuild_gives_the_same_facts(tree, month_world):
    person = _person("Người Mới", tree.b, tail="000015")
    _account(person, date(2026, 7, 1))
    _transfer(person, 700_000, "sent")  # a transfer in flight
    facts.refresh()
    before = _all_facts()
    assert all(before)
    facts.rebuild()
    assert _all_facts() == before
    assert not StaleFact.objects.exists()
    # a second refresh of unchanged months writes nothing and changes nothing
    StaleFact.objects.create(commune_id=tree.a.pk, month=M)
    facts.refresh()
    assert _all_facts() == before


def test_the_ledgers_advances_are_the_balances_advances(tree, month_world):
    from ansinh.reconciliation import ledger

    cycle = month_world.cycle
    assert (
        ledger.advances([cycle.pk])
        == {cycle.pk: ledger.balances([cycle.pk])[cycle.pk].advance}
        == {cycle.pk: 2_000_000}
    )


def test_a_transfer_marks_its_cycles_month_only_when_what_the_facts_read_changes(tree, month_world):
    """A transfer's mark: the (commune, month) of its batch's cycle, when its state, amount,
    commune, line or batch changes while in flight; a write of anything else (the payee
    notified, a reason) marks nothing."""
    from ansinh.disbursement.models import Instruction

    person = _person("Người Mới", tree.b, tail="000016")
    _account(person, date(2026, 7, 1))
    sent = _transfer(person, 700_000, "sent")
    assert set(StaleFact.objects.values_list("commune_id", "month")) >= {(tree.b.pk, M)}
    facts.refresh()
    assert not StaleFact.objects.exists()

    Instruction.objects.filter(pk=sent.pk).update(notified=True, reason="chờ ngân hàng")
    assert not StaleFact.objects.exists()

    Instruction.objects.filter(pk=sent.pk).update(state="accepted")
    assert list(StaleFact.objects.values_list("commune_id", "month")) == [(tree.b.pk, M)]
    facts.refresh()
    # moved to the other commune while in flight: both communes' month
    Instruction.objects.filter(pk=sent.pk).update(commune=tree.a)
    assert sorted(StaleFact.objects.values_list("commune_id", "month")) == sorted([(tree.a.pk, M), (tree.b.pk, M)])
    facts.refresh()
    _same(tree)
    # no longer in flight before nor after (rejected, then cancelled): nothing to mark
    Instruction.objects.filter(pk=sent.pk).update(state="rejected")
    facts.refresh()
    Instruction.objects.filter(pk=sent.pk).update(state="cancelled")
    assert not StaleFact.objects.exists()
    _same(tree)
