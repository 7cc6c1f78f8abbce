"""The demo's payment cycles and contracts: loaded idempotently on the demo's organisations."""

from __future__ import annotations

from datetime import date

import pytest

from ansinh.areas.models import CURRENT_START, LEGACY_END, Area, Level, Tree
from ansinh.demo import organisations
from ansinh.payroll.demo import DEMO_PERCENT_BASIS_POINTS, PILOT_FLAT_FEE, load_demo_cycles
from ansinh.payroll.models import FeeKind, PaymentCycle, ProviderContract


@pytest.fixture
def demo_orgs(policy):
    legacy = Area.objects.create(
        tree=Tree.LEGACY, level=Level.PROVINCE, code="89", name="An Giang", valid_to=LEGACY_END
    )
    for code, name in organisations.PILOT_DISTRICTS.items():
        district = Area.objects.create(
            tree=Tree.LEGACY,
            level=Level.DISTRICT,
            code=code,
            name=name,
            division_type="Thành phố",
            parent=legacy,
            valid_to=LEGACY_END,
        )
        Area.objects.create(
            tree=Tree.LEGACY, level=Level.COMMUNE, code=f"{code}1", name="Xã", parent=district, valid_to=LEGACY_END
        )
    current = Area.objects.create(
        tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang", valid_from=CURRENT_START
    )
    for code in organisations.CURRENT_PILOT_COMMUNES:
        Area.objects.create(
            tree=Tree.CURRENT,
            level=Level.COMMUNE,
            code=code,
            name=f"Xã {code}",
            division_type="Phường",
            parent=current,
            valid_from=CURRENT_START,
        )
    organisations.load_organisations()
    organisations.load_current_organisations()


def test_demo_cycles_and_contracts(demo_orgs):
    today = date(2026, 12, 2)
    first = load_demo_cycles(today=today)
    communes = len(organisations.CURRENT_PILOT_COMMUNES)
    assert first["contracts_created"] == len(organisations.PILOT_DISTRICTS) + communes
    assert first["cycles"]["approving_units"] == communes
    assert PaymentCycle.objects.filter(month=date(2026, 12, 1), state="open").count() == first["cycles"]["cycles"]
    pilot = ProviderContract.objects.filter(valid_from=date(2023, 7, 1))
    assert {(c.fee_kind, c.fee_flat, c.valid_to) for c in pilot} == {(FeeKind.FLAT, PILOT_FLAT_FEE, date(2023, 12, 31))}
    current = ProviderContract.objects.filter(valid_from=date(2026, 1, 1))
    assert {(c.fee_kind, c.fee_basis_points) for c in current} == {(FeeKind.PERCENT, DEMO_PERCENT_BASIS_POINTS)}
    assert all("MINH HỌA" in c.note for c in current)
    again = load_demo_cycles(today=today)
    assert again["contracts_created"] == 0 and again["cycles"]["cycles_created"] == 0


# --- the history: load_demo runs the cycles of the pilot months and of the last three months ------


def _counts() -> dict[str, int]:
    from ansinh.audit.models import AuditEvent
    from ansinh.payroll.models import ChangeItem, ChangeList, PayrollLine

    return {
        "cycles": PaymentCycle.objects.count(),
        "lines": PayrollLine.objects.count(),
        "lists": ChangeList.objects.count(),
        "items": ChangeItem.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def demo_history(db, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    from ansinh.demo import registry as demo_registry

    # enough people in Phường Châu Đốc for the late decisions (a death, two re-assessments)
    monkeypatch.setattr(demo_registry, "DEMO_TARGETS", {"884": 300, "890": 30})
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def _month(n: int) -> date:
    from django.utils import timezone

    from ansinh.registry.rules import add_months

    return add_months(timezone.localdate().replace(day=1), n)


def test_the_last_three_months_are_funded_in_the_demo_commune_through_the_services(demo_history, settings):
    from ansinh.accounts import otp
    from ansinh.accounts.models import RoleAssignment, User
    from ansinh.payroll import demo
    from ansinh.payroll.approval import content_hash
    from ansinh.payroll.funding import advanced_total
    from ansinh.payroll.models import (
        ChangeList,
        FundingRequest,
        FuneralSupport,
        LineType,
        PayrollApproval,
        PayrollLine,
        Receivable,
        ReceivableReason,
    )
    from ansinh.registry.models import Decision

    home = Area.objects.get(tree=Tree.CURRENT, code=organisations.HOME_COMMUNE)
    preparer, approver = User.objects.get(username="canbo.phong"), User.objects.get(username="lanhdao.phong")
    cycles = {}
    for n in (-3, -2, -1):
        cycle = PaymentCycle.objects.get(month=_month(n), area=home, programme__code="BTXH")
        cycles[n] = cycle
        # funded here, then sent through the sandbox bank; the months before last are settled
        # with the provider and with finance (ansinh.reconciliation.settlement_demo): closed
        assert cycle.state == ("paying" if n == -1 else "closed"), n
        approval = PayrollApproval.objects.get(cycle=cycle)
        digest, lines, total = content_hash(cycle)
        assert lines > 0 and approval.content_hash == digest and len(digest) == 64
        assert (approval.lines, approval.total_amount) == (lines, total)
        assert (approval.prepared_by, approval.approved_by) == (preparer, approver)
        funding = FundingRequest.objects.get(cycle=cycle)
        assert funding.content_hash == digest and funding.requested_by == preparer
        assert funding.total == funding.allowances_total + funding.fee_total > total > 0
        assert advanced_total(cycle) == funding.total
    # only the programme with claims, only the demo's commune, for the past months
    assert PaymentCycle.objects.filter(month__in=[_month(n) for n in (-3, -2, -1)]).count() == 3

    # the second month: the commune missed its deadline, the office generated with the last
    # accepted list; its lines repeat the first month's
    missed = ChangeList.objects.get(cycle=cycles[-2])
    assert missed.used_previous and missed.overdue
    first = dict(PayrollLine.objects.filter(cycle=cycles[-3]).values_list("beneficiary_id", "amount"))
    assert dict(PayrollLine.objects.filter(cycle=cycles[-2]).values_list("beneficiary_id", "amount")) == first
    assert ChangeList.objects.get(cycle=cycles[-1]).state == "accepted"

    # the third month: the late decisions show as a funeral line, a receivable, arrears, a recovery
    death = Decision.objects.get(number=demo.DEATH_NUMBER, signed_on=_month(-1).replace(day=5))
    funeral = FuneralSupport.objects.get(beneficiary=death.beneficiary)
    assert funeral.state == "paid" and funeral.death_date == _month(-3).replace(day=17)
    line = PayrollLine.objects.get(cycle=cycles[-1], line_type=LineType.FUNERAL)
    assert (line.beneficiary_id, line.amount, line.payee_name) == (
        death.beneficiary_id,
        funeral.amount,
        funeral.organiser_name,
    )
    assert funeral.amount > 0
    assert not PayrollLine.objects.filter(
        cycle=cycles[-1], beneficiary=death.beneficiary, line_type=LineType.REGULAR
    ).exists()
    after_death = Receivable.objects.get(beneficiary=death.beneficiary, reason=ReceivableReason.PAID_AFTER_DEATH)
    assert after_death.amount == first[death.beneficiary_id]  # the second month, paid after the death
    up = Decision.objects.get(number=demo.UP_NUMBER, signed_on=_month(-1).replace(day=5))
    arrears = PayrollLine.objects.get(cycle=cycles[-1], beneficiary=up.beneficiary, line_type=LineType.ARREARS)
    regular = PayrollLine.objects.get(cycle=cycles[-1], beneficiary=up.beneficiary, line_type=LineType.REGULAR)
    assert arrears.months == {f"{_month(-2):%Y-%m}": regular.amount - first[up.beneficiary_id]}
    assert arrears.amount > 0
    down = Decision.objects.get(number=demo.DOWN_NUMBER, signed_on=_month(-1).replace(day=5))
    recovery = PayrollLine.objects.get(cycle=cycles[-1], beneficiary=down.beneficiary, line_type=LineType.RECOVERY)
    regular = PayrollLine.objects.get(cycle=cycles[-1], beneficiary=down.beneficiary, line_type=LineType.REGULAR)
    assert recovery.amount == regular.amount - first[down.beneficiary_id] < 0

    # the current month: open for changes, the lists of the cycles with beneficiaries in draft
    current = PaymentCycle.objects.filter(month=_month(0))
    assert current.exists() and set(current.values_list("state", flat=True)) == {"open"}
    assert not PayrollLine.objects.filter(cycle__in=current).exists()
    drafts = ChangeList.objects.filter(cycle__in=current)
    assert set(drafts.values_list("state", flat=True)) == {"draft"}
    assert drafts.filter(commune=home, cycle__programme__code="BTXH").count() == 1

    # the pilot months of 2023, once payroll scopes pre-2025 cycles: approved (and funded) with
    # lines in Châu Đốc (884) and Tịnh Biên (890), attributed to their pre-2025 communes
    if demo.legacy_scoping_available():
        for code in demo.PILOT_DISTRICTS:
            district = Area.objects.get(tree=Tree.LEGACY, code=code)
            for month in demo.PILOT_MONTHS:
                cycle = PaymentCycle.objects.get(month=month, area=district, programme__code="BTXH")
                assert PayrollApproval.objects.filter(cycle=cycle).exists()
                # paying once its transfers went to the sandbox bank or its first cash payment was
                # recorded (ansinh.cashout.demo); otherwise it waits, funded
                from ansinh.cashout.models import CashReceipt

                started = cycle.provider_batches.exists() or CashReceipt.objects.filter(entry__cycle=cycle).exists()
                # long paid, then settled with the provider and with finance: closed
                assert cycle.state == ("closed" if started else "funded")
                lines = PayrollLine.objects.filter(cycle=cycle)
                assert lines.exists() and not lines.exclude(area_path__startswith=district.path).exists()
    # the roles given for the 2023 steps were revoked; nobody holds one on the pre-2025 tree
    assert not RoleAssignment.objects.active().filter(area__tree=Tree.LEGACY).exists()

    # the approver's device is back on real time: a visitor's code for now is accepted
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = approver.totpdevice_set.get()
    assert device.drift == 0
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    assert otp.verify(approver, f"{totp.token():06d}")

    # the transfer leg (ansinh.disbursement.demo): every funded cycle went through the sandbox bank
    from ansinh.disbursement.demo import load_demo_transfers
    from ansinh.disbursement.models import Instruction, Payout, ProviderBatch, TransferException
    from ansinh.notifications.models import Message

    assert ProviderBatch.objects.exists() and not ProviderBatch.objects.filter(submitted_at__isnull=True).exists()
    instructions = Instruction.objects.count()
    credited = Instruction.objects.filter(state="credited").count()
    rejected = Instruction.objects.filter(state="rejected").count()
    # at least the transfer the bank rejects in the month before the last (sandbox.Options.rejected),
    # plus the seeded draw's (about 3 %, from the transfers' content, never from database ids)
    assert 0 < rejected < instructions * 0.15 and credited > instructions * 0.8
    assert Payout.objects.filter(instruction__state="credited").values("instruction").distinct().count() == credited
    assert TransferException.objects.filter(kind="rejected").count() == rejected
    # one rejected transfer of the month before the last was switched to cash: the scripted one (AC04)
    switched = TransferException.objects.get(kind="rejected", resolution="to_cash")
    assert switched.batch.cycle.month == _month(-2) and switched.instruction.reason_code == "AC04"
    assert Message.objects.filter(template_key="payment.credited").count() == credited
    transfers = {"instructions": instructions, "payouts": Payout.objects.count(), "messages": Message.objects.count()}
    assert load_demo_transfers()["transfers"] == 0
    assert transfers == {
        "instructions": Instruction.objects.count(),
        "payouts": Payout.objects.count(),
        "messages": Message.objects.count(),
    }

    # idempotent: a second run creates nothing
    before = _counts()
    again = load_demo_cycles()
    assert again["contracts_created"] == 0 and again["draft_lists_built"] == 0
    assert _counts() == before
