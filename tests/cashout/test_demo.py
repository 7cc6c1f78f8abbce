"""The demo's cash pay-out (ansinh.cashout.demo), on the demo loaded by `load_demo` with a small
registry (as tests/payroll/test_demo.py does): places in every demo commune, the cash lists of every
funded cycle, realistic receipts, the past months closed, the latest one still paying, withdrawals
with a few "cannot withdraw", and a second run that adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from ansinh.accounts.models import RoleAssignment
from ansinh.areas.models import Area, Tree
from ansinh.audit.models import AuditEvent
from ansinh.cashout import demo
from ansinh.cashout.models import (
    AccountFollowUp,
    CashEntry,
    CashEntryLine,
    CashList,
    CashReceipt,
    DeliveryRoute,
    EntrySource,
    EntryState,
    PayDay,
    PayPoint,
    ReceiptOutcome,
    ReceiverKind,
    Withdrawal,
)
from ansinh.demo.organisations import CURRENT_PILOT_COMMUNES
from ansinh.disbursement.models import Payout, TransferException
from ansinh.payroll.models import PaymentCycle
from ansinh.registry.models import Beneficiary


@pytest.fixture
def demo_loaded(db, monkeypatch):
    from ansinh.demo import registry as demo_registry

    monkeypatch.setattr(demo_registry, "DEMO_TARGETS", {"884": 300, "890": 30})
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def _counts() -> dict[str, int]:
    return {
        "pay_points": PayPoint.objects.count(),
        "routes": DeliveryRoute.objects.count(),
        "days": PayDay.objects.count(),
        "lists": CashList.objects.count(),
        "entries": CashEntry.objects.count(),
        "receipts": CashReceipt.objects.count(),
        "payouts": Payout.objects.count(),
        "withdrawals": Withdrawal.objects.count(),
        "follow_ups": AccountFollowUp.objects.count(),
        "audit": AuditEvent.objects.count(),
        "roles": RoleAssignment.objects.count(),
    }


def test_the_demo_pays_cash_realistically_and_loads_once(demo_loaded):
    home = Area.objects.get(tree=Tree.CURRENT, code=demo.HOME_COMMUNE)
    # funded or later: the months before last are settled with the provider and with finance
    # (ansinh.reconciliation.settlement_demo), so closed
    later = (*demo.FUNDED_OR_LATER, "settled", "closed")
    funded = list(PaymentCycle.objects.filter(state__in=later).order_by("month", "area_path"))
    assert funded
    # every funded cycle has its lists; every current demo commune with people has a pay point
    for cycle in funded:
        assert CashList.objects.filter(cycle=cycle).exists(), cycle
    assert PaymentCycle.objects.filter(area=home, state__in=later).count() == 3
    people = Beneficiary.objects.values("commune_id")
    current = Area.objects.filter(tree=Tree.CURRENT, code__in=CURRENT_PILOT_COMMUNES, pk__in=people)
    for commune in current:
        assert PayPoint.objects.filter(commune=commune, active=True).exists(), commune
        assert DeliveryRoute.objects.filter(commune=commune).exists(), commune
    with_atm = PayPoint.objects.filter(commune__tree=Tree.CURRENT, atm_nearby=True).values("commune").distinct()
    assert 0 < with_atm.count() < current.count() or current.count() == 1
    # the pay days start on the transfers deadline and keep the hours
    for day in PayDay.objects.filter(pay_point__commune=home):
        assert day.opens.hour == 7 and day.closes.hour in (11, 16)
    assert PayPoint.objects.filter(commune=home, staff__username=demo.PROVIDER_STAFF).count() == 2

    # paid entries and payouts agree: one cash payout per line of each entry paid (not the
    # withdrawals' entries: their lines were paid by the transfer)
    paid = CashEntry.objects.filter(state=EntryState.PAID).exclude(source=EntrySource.WITHDRAWAL)
    paid_lines = set(CashEntryLine.objects.filter(entry__in=paid).values_list("line_id", flat=True))
    assert set(Payout.objects.filter(channel="cash").values_list("line_id", flat=True)) == paid_lines
    recorded = CashReceipt.objects.filter(result="recorded")
    assert recorded.filter(outcome=ReceiptOutcome.PAID).count() == CashEntry.objects.filter(state="paid").count()
    assert recorded.filter(receiver_kind=ReceiverKind.REPRESENTATIVE).exists()
    # every receipt (one by one or in bulk) has the service's answer and its audit event
    keys = {frozenset(a) for a in CashReceipt.objects.values_list("answer", flat=True)}
    assert len(keys) == 1 and "receipt_id" in next(iter(keys))
    assert AuditEvent.objects.filter(action__startswith="cashout.receipt.").count() == CashReceipt.objects.count()

    # past months: about 96 % paid, some absent, refusals and a death; closed, the rest returned
    months = sorted({c.month for c in funded if c.area_id == home.pk})
    past = CashEntry.objects.filter(cycle__area=home, cycle__month__in=months[:-1])
    states = dict(past.values_list("state").annotate(n=Count("pk")).order_by())
    total = sum(states.values())
    # (per-entry draws hash database ids: on the small test registry the share moves a little)
    assert 0.9 < states.get("paid", 0) / total < 0.99
    reasons = set(past.filter(state="returned").values_list("not_paid_reason", flat=True))
    assert {"absent", "refused", "died"} <= reasons
    assert not CashList.objects.filter(cycle__area=home, cycle__month__in=months[:-1], state="open").exists()
    assert past.filter(state="returned", owed=True).exists()
    # the latest month is still paying, with people still to pay (the lookup's example among them)
    latest = CashEntry.objects.filter(cycle__area=home, cycle__month=months[-1])
    assert set(CashList.objects.filter(cycle__area=home, cycle__month=months[-1]).values_list("state", flat=True)) == {
        "open"
    }
    pending = latest.filter(state=EntryState.PENDING).count()
    assert 0.2 < pending / latest.count() < 0.5
    person = demo.lookup_person(PaymentCycle.objects.get(area=home, month=months[-1], programme__code="BTXH"))
    assert person is not None and person.state == EntryState.PENDING

    # withdrawals: most served, a few could not, each with its cash path, exception and follow-up
    served = Withdrawal.objects.filter(outcome="served").count()
    cannot = Withdrawal.objects.filter(outcome="cannot")
    assert 3 <= cannot.count() <= 5 < served
    assert AccountFollowUp.objects.filter(closed_at__isnull=True).count() == cannot.count()
    assert TransferException.objects.filter(kind="cannot_withdraw").count() == cannot.count()
    assert all(w.cash_entry_id for w in cannot)
    assert CashEntry.objects.filter(source=EntrySource.WITHDRAWAL, state=EntryState.PAID).count() == 1

    # the roles lent for the 2023 receipts were revoked
    assert not RoleAssignment.objects.active().filter(area__tree=Tree.LEGACY).exists()

    # the complaints (ansinh.complaints.demo, both loaders): every channel, several states, the
    # cash ones linked to the records they are about
    from ansinh.complaints.demo import load_demo_cash_complaints, load_demo_complaints
    from ansinh.complaints.models import Complaint

    complaints = Complaint.objects.filter(commune=home)
    assert complaints.count() >= 12
    assert set(complaints.values_list("channel", flat=True)) == {"online", "phone", "counter"}
    assert {"lodged", "in_progress", "resolved", "rejected"} <= set(complaints.values_list("state", flat=True))
    about_withdrawal = complaints.get(topic="cannot_withdraw", beneficiary__isnull=False)
    assert about_withdrawal.state == "in_progress" and about_withdrawal.exceptions.filter(kind="cannot_withdraw")
    assert complaints.filter(state="resolved", lines__isnull=False).exists()
    assert complaints.filter(state="rejected", lines__isnull=False).exists()

    # idempotent: a second run adds nothing
    before = _counts() | {"complaints": Complaint.objects.count()}
    again = demo.load_demo_cash()
    assert load_demo_complaints() == 0 and load_demo_cash_complaints() == 0
    assert _counts() | {"complaints": Complaint.objects.count()} == before
    assert again.get("cash_lists", 0) == 0 and again.get("receipts_paid", 0) == 0
