"""The demo's pilot months (July–September 2023) give the unit rows of report 3010/BC-SLĐTBXH
(Biểu 01, 02, 03) for Châu Đốc (884) and Tịnh Biên (890), computed from the records: with plain
ORM queries following the shared definitions (tests/demo/pilot_figures.py) and through the
statutory reports (ansinh.reports). A second load changes nothing.

The demo is loaded once for the module with the real registry size (9,670 beneficiaries receiving
in September 2023), leaving out the steps that do not touch the pilot (applications, population
register, account openings in flight, cash pay-out, complaints, reconciliation, worklists, the
recent months' history; the account changes stay: they give the approver the authenticator the
pilot's approvals need)."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from ansinh.areas.models import Area, Level, Tree
from ansinh.demo.management.commands import load_demo as load_demo_command
from ansinh.disbursement.models import Instruction, Payout
from ansinh.payments import demo_pilot
from ansinh.payments.models import AccountStatus, PaymentMethod, ReceivingAccount
from ansinh.payroll import demo as payroll_demo
from ansinh.payroll.models import PaymentCycle, PayrollLine
from ansinh.registry.models import Beneficiary, Decision, DecisionKind
from tests.conftest import ensure_data_migrations
from tests.demo.pilot_figures import figures

# (beneficiaries receiving in Sept 2023, accounts first opened in Jul/Aug/Sep, paid through an
# account in Jul/Aug/Sep as (people, đồng), distinct over the three months)
PUBLISHED = {
    "884": {
        "beneficiaries": 4065,
        "opened": (182, 0, 396),
        "without_account": 3487,
        "paid": ((182, 86_220_000), (182, 85_500_000), (409, 199_980_000)),
        "paid_distinct": 409,
    },
    "890": {
        "beneficiaries": 5605,
        "opened": (355, 353, 312),
        "without_account": 4585,
        # August: 355 as in Biểu 03 (Biểu 02 prints 353; docs/pilot-report-2023.md)
        "paid": ((370, 183_960_000), (355, 179_640_000), (704, 358_560_000)),
        "paid_distinct": 704,
    },
}
SKIPPED = {
    "load_demo_applications": lambda: {},
    "load_demo_verification": lambda: {},
    "load_demo_openings": lambda: {},
    "load_demo_cash": lambda: {},
    "load_demo_complaints": lambda: 0,
    "load_demo_cash_complaints": lambda: 0,
    "load_demo_worklists": lambda: {},
}


def _load() -> None:
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


@pytest.fixture(scope="module")
def _pilot(django_db_setup, django_db_blocker):
    """Loaded once inside a transaction rolled back at the module's end."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=fast), pytest.MonkeyPatch.context() as mp:
        for name, stub in SKIPPED.items():
            mp.setattr(load_demo_command, name, stub)
        mp.setattr(payroll_demo, "load_demo_history", lambda months, today: {})
        mp.setattr(payroll_demo, "_draft_lists", lambda month, province: 0)
        try:  # the reconciliation demo (statements, checks) reads the transfers, writes no pilot record
            from ansinh.reconciliation import demo as reconciliation_demo
        except ImportError:
            pass
        else:
            mp.setattr(reconciliation_demo, "load_demo_statements", lambda *a, **k: {})
        outer = transaction.atomic()
        outer.__enter__()
        try:
            ensure_data_migrations()  # a transactional test on this worker may have flushed them
            _load()
            yield mp
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def pilot(_pilot, db):
    return _pilot


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_the_records_give_the_published_unit_rows(pilot, code):
    got = figures(code)
    assert got["opened_before_july"] == 0
    assert {k: got[k] for k in PUBLISHED[code]} == PUBLISHED[code]
    # Biểu 01 column 2 = 4+5+6 and the note "N chưa có TK"
    assert got["beneficiaries"] - sum(got["opened"]) == got["without_account"]


def test_the_statutory_reports_show_the_published_unit_rows(pilot):
    from ansinh.reports.bieu01 import bieu01
    from ansinh.reports.bieu02 import bieu02
    from ansinh.reports.bieu03 import bieu03
    from ansinh.reports.tables import make_period

    province = Area.objects.get(tree=Tree.LEGACY, level=Level.PROVINCE, code="89")
    period = make_period(date(2023, 7, 1), date(2023, 9, 1), as_of=date(2023, 9, 10))
    rows = {code: {} for code in PUBLISHED}
    for table in (bieu01(province, period), bieu02(province, period), bieu03(province, period)):
        for row in table.rows:
            if row.unit is not None and row.unit.code in rows:
                rows[row.unit.code][table.bieu] = {k: str(v) for k, v in row.values.items()}
    for code, published in PUBLISHED.items():
        b1, b2, b3 = rows[code]["bieu01"], rows[code]["bieu02"], rows[code]["bieu03"]
        opened = published["opened"]
        assert (b1["beneficiaries"], b1["m0"], b1["m1"], b1["m2"], b1["opened"], b1["without"]) == tuple(
            str(n) for n in (published["beneficiaries"], *opened, sum(opened), published["without_account"])
        )
        people = tuple(str(n) for n, _amount in published["paid"])
        assert (b2["with_account"], b2["m0"], b2["m1"], b2["m2"], b2["paid"]) == (
            str(sum(opened)),
            *people,
            str(published["paid_distinct"]),
        )
        assert (b3["m0_people"], b3["m1_people"], b3["m2_people"]) == people
        assert (b3["m0_amount"], b3["m1_amount"], b3["m2_amount"]) == tuple(
            str(amount) for _n, amount in published["paid"]
        )
        assert b3["amount"] == str(sum(amount for _n, amount in published["paid"]))
        assert b3["paid"] == str(published["paid_distinct"])
    rates = {code: rows[code]["bieu01"]["rate"] for code in PUBLISHED}
    assert rates == {"884": "14.22", "890": "18.20"}  # the report prints 18,19 (docs)


def test_the_pilot_is_paid_from_the_entitlement_and_the_failures_are_recorded(pilot):
    """Amounts come from the payroll lines (never typed): every account payout of the pilot equals
    its line's amount, a multiple of half the 2023 standard level; the relatives paid in July into
    a July opener's account have that account (rejected since) and their own from August; the
    coefficient changes from August are registry decisions."""
    lines = PayrollLine.objects.filter(cycle__month__in=demo_pilot.MONTHS, cycle__area__tree=Tree.LEGACY)
    payouts = Payout.objects.filter(line__in=lines, channel="account")
    assert payouts.count() == 182 + 182 + 409 + 370 + 355 + 704
    assert all(p.amount == p.line.amount and p.amount % 180_000 == 0 for p in payouts.select_related("line"))
    # every pilot transfer was credited: none of the counted is a rejected one
    assert not Instruction.objects.filter(line__in=lines).exclude(state="credited").exists()
    borrowed = ReceivingAccount.objects.filter(status=AccountStatus.REJECTED, opened_on__month=7, opened_on__year=2023)
    assert borrowed.count() == 15
    for account in borrowed:
        own = ReceivingAccount.objects.get(beneficiary=account.beneficiary, status=AccountStatus.ACTIVE)
        assert own.opened_on.month == 8
        assert own.number_hash != account.number_hash
        assert ReceivingAccount.objects.filter(number_hash=account.number_hash, status=AccountStatus.ACTIVE).exists()
    adjusted = Decision.objects.filter(signed_on=demo_pilot.ADJUST_SIGNED, kind=DecisionKind.ADJUST)
    assert adjusted.count() == 4 + 6


def test_a_second_load_changes_nothing(pilot):
    models = (Beneficiary, ReceivingAccount, PaymentMethod, Decision, PaymentCycle, PayrollLine, Instruction, Payout)
    before = {m.__name__: m.objects.count() for m in models}
    figures_before = {code: figures(code) for code in PUBLISHED}
    _load()
    assert {m.__name__: m.objects.count() for m in models} == before
    assert {code: figures(code) for code in PUBLISHED} == figures_before
