"""The demo's payment data (load_demo's hook) and the synthetic payments of the benchmark
provinces: the pilot's account shares, realistic histories, the deliberate problems the
worklists must find, idempotence."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from ansinh.audit.models import AuditEvent
from ansinh.demo import organisations
from ansinh.demo import registry as demo_registry
from ansinh.demo.management.commands import load_demo as load_demo_command
from ansinh.payments import crypto, names
from ansinh.payments.demo import load_demo_payments, load_synthetic_payments
from ansinh.payments.models import AccountStatus, Method, PayeeDesignation, PaymentMethod, ReceivingAccount
from ansinh.registry.models import Beneficiary, Representation, Status, StopReason


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(demo_registry, "DEMO_TARGETS", {"884": 400, "890": 400})
    # the shares are the pilot's (2023): the accounts the demo's opening batch adds later are not
    monkeypatch.setattr(load_demo_command, "load_demo_openings", lambda: {})
    monkeypatch.setattr(load_demo_command, "load_demo_cycles", lambda: {})  # tests/payroll/test_demo.py
    monkeypatch.setattr(load_demo_command, "load_demo_account_changes", lambda: {})
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def _share(unit: str) -> float:
    people = Beneficiary.objects.filter(legacy_commune__parent__code=unit)
    with_account = people.filter(receiving_accounts__status=AccountStatus.ACTIVE).distinct().count()
    return with_account / people.count()


def test_the_demo_shows_the_pilot_situation(demo):
    # about 14% of Châu Đốc's and 18% of Tịnh Biên's beneficiaries have an active account
    assert _share("884") == pytest.approx(0.14, abs=0.02)
    assert _share("890") == pytest.approx(0.18, abs=0.02)

    accounts = ReceivingAccount.objects.select_related("institution")
    by_bank = Counter(a.institution.code for a in accounts)
    assert by_bank.most_common(1)[0][0] == "NAB"  # the post office's partner bank
    assert any(a.kind == "wallet" for a in accounts)
    held = [a for a in accounts if a.holder_representation_id]
    assert held and all(a.holder_representation.beneficiary_id == a.beneficiary_id for a in held)
    assert all(a.holder_name == names.bank_form(a.holder_name) for a in accounts)  # as banks print them
    # weak names: active only once a person confirmed them; some still wait
    weak = [a for a in accounts if not names.is_strong(a.name_score)]
    assert any(a.status == AccountStatus.PENDING for a in weak)
    assert all(a.name_confirmed_at for a in weak if a.status == AccountStatus.ACTIVE)
    # numbers decrypt, and are found by their hash
    a = accounts.first()
    assert crypto.number_hash(crypto.decrypt(a.number_encrypted)) == a.number_hash

    # every receiving beneficiary has a payment method from 2023 on (or their later start)
    receiving = Beneficiary.objects.filter(status=Status.ACTIVE)
    without = receiving.exclude(payment_methods__isnull=False)
    home = receiving.filter(commune__code=organisations.HOME_COMMUNE)
    assert without.count() == 2 and set(without) <= set(home)  # the deliberate problem
    first = {}
    for pm in PaymentMethod.objects.order_by("from_month"):
        first.setdefault(pm.beneficiary_id, pm)
    assert all(pm.from_month.year == 2023 or pm.from_month >= pm.beneficiary.start_month for pm in first.values())
    # history: account holders paid in cash until their account opened
    assert PaymentMethod.objects.values("beneficiary").distinct().count() < PaymentMethod.objects.count()
    latest = {}
    for pm in PaymentMethod.objects.order_by("from_month", "id"):
        latest[pm.beneficiary_id] = pm
    holders = set(ReceivingAccount.objects.filter(status="active").values_list("beneficiary_id", flat=True))
    by_account = {b for b in holders if latest.get(b) and latest[b].method == Method.ACCOUNT}
    assert 0.85 < len(by_account) / len(holders) < 1  # a few holders still choose cash
    frail = Beneficiary.objects.filter(frail=True).exclude(pk__in=holders).exclude(payment_methods__isnull=True)
    assert all(latest[b.pk].method == Method.HOME for b in frail)
    reasons = Counter(pm.cash_reason for pm in latest.values() if pm.method != Method.ACCOUNT)
    assert {"choice", "frail", "cannot_travel", "no_phone"} <= set(reasons)

    # the deliberate problems
    dead = Beneficiary.objects.get(stop_reason=StopReason.DIED)
    assert dead.receiving_accounts.filter(status=AccountStatus.ACTIVE).exists()
    assert latest[dead.pk].method == Method.ACCOUNT
    shared = Counter(ReceivingAccount.objects.filter(status="active").values_list("number_hash", flat=True))
    (digest,) = [h for h, n in shared.items() if n > 1]
    pair = list(ReceivingAccount.objects.filter(number_hash=digest))
    assert len({a.beneficiary_id for a in pair}) == 2
    assert all(a.holder_representation_id is None for a in pair)  # the holder represents only one

    # payees: every payee representative is designated from the start month
    payees = Representation.objects.filter(is_payee=True, ended_at__isnull=True)
    designated = {(d.beneficiary_id, d.representation_id) for d in PayeeDesignation.objects.all()}
    assert payees.exists() and all((r.beneficiary_id, r.pk) in designated for r in payees)

    # one summary audit event with the counts; a second run adds nothing
    event = AuditEvent.objects.get(action="demo.payments.loaded")
    assert event.after["accounts"] == ReceivingAccount.objects.count()
    before = (PaymentMethod.objects.count(), ReceivingAccount.objects.count(), PayeeDesignation.objects.count())
    last = AuditEvent.objects.order_by("-id").first().pk
    assert load_demo_payments()["created"] is False
    call_command("load_demo", "--quiet-logins", stdout=StringIO())
    after = (PaymentMethod.objects.count(), ReceivingAccount.objects.count(), PayeeDesignation.objects.count())
    assert after == before
    new_events = AuditEvent.objects.filter(pk__gt=last)
    assert not new_events.filter(action__startswith="demo.").exists()
    assert not new_events.filter(action__startswith="payments.").exists()


def test_synthetic_payments_for_the_benchmark(tree, policy):
    demo_registry.load_synthetic(province=tree.province, size=600)
    result = load_synthetic_payments(tree.province.code, tree="legacy")
    receiving = Beneficiary.objects.filter(status=Status.ACTIVE).count()
    assert result["methods"] == PaymentMethod.objects.count() == receiving
    assert result["accounts"] / receiving == pytest.approx(0.15, abs=0.04)
    hashes = list(ReceivingAccount.objects.values_list("number_hash", flat=True))
    assert len(set(hashes)) == len(hashes)  # every synthetic account has its own number
    assert AuditEvent.objects.filter(action="demo.payments.synthetic_loaded").exists()
    assert load_synthetic_payments(tree.province.code, tree="legacy")["methods"] == 0  # idempotent
