"""The office's settlement with the finance office (ansinh.reconciliation.office_settlement): the
figures from the records, the month's XLSX (cells checked), recording it sent closes the cycle,
the quarterly and year-end summaries, the CLI."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from ansinh.audit.models import AuditEvent
from ansinh.payroll.models import CycleState, FundingRequest
from ansinh.reconciliation import office_settlement as office
from ansinh.reconciliation import settlement as svc
from ansinh.reconciliation.models import OfficeSettlement
from tests.reconciliation.settlement_fixtures import *  # noqa: F403
from tests.reconciliation.settlement_fixtures import ACCOUNT_PERSON, HOME_PEOPLE, PAY_POINT_PEOPLE, amount_of


@pytest.fixture
def settled(paid_cycle, provider_a, preparer_a):
    obj = svc.submit(actor=provider_a, cycle=paid_cycle)
    svc.accept(actor=preparer_a, settlement=obj)
    paid_cycle.refresh_from_db()
    assert paid_cycle.state == CycleState.SETTLED
    return paid_cycle


def _expected(cycle) -> dict[str, int]:
    a = {n: amount_of(cycle, n) for n in (*PAY_POINT_PEOPLE, *HOME_PEOPLE, ACCOUNT_PERSON)}
    advance = FundingRequest.objects.get(cycle=cycle).total
    out = {
        "advance": advance,
        "paid_account": a[ACCOUNT_PERSON],
        "paid_pay_point": a[PAY_POINT_PEOPLE[0]] + a[PAY_POINT_PEOPLE[1]],
        "paid_home": a[HOME_PEOPLE[0]],
        "returned": a[PAY_POINT_PEOPLE[2]] + a[HOME_PEOPLE[1]],
        "fee": 20_000,
        "recoveries": 0,
    }
    # the advance held the expected fee of all six (6 × 5,000); four were paid: 10,000 left
    out["balance"] = 30_000 - 20_000
    assert (
        out["advance"] - out["paid_account"] - out["paid_pay_point"] - out["paid_home"] - out["returned"] - 20_000
        == 10_000
    )
    return out


def test_figures_from_the_records(settled):
    assert office.figures(settled) == _expected(settled)


def test_the_month_file_then_sent_closes_the_cycle(settled, preparer_a, viewer_a):
    expected = _expected(settled)
    data = office.month_xlsx(settled.approving_unit, settled.month, actor=preparer_a)
    ws = load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    flat = [c for r in rows for c in r if c is not None]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat
    assert "Tháng 03/2026" in flat
    programme_row = next(r for r in rows if r[1] == str(settled.programme.name_vi))
    assert programme_row[2] == "03/2026"
    assert programme_row[3:11] == [expected[k] for k in office.COLUMNS]
    total_row = next(r for r in rows if r[1] == "Tổng cộng")
    assert total_row[3:11] == [expected[k] for k in office.COLUMNS]
    header = next(r for r in rows if r[0] == "STT")
    assert header[3] == "Số tạm ứng đã nhận"

    with pytest.raises(svc.SettlementForbidden):
        office.record_sent(actor=viewer_a, cycle=settled, reference="QT-03")
    sent = office.record_sent(actor=preparer_a, cycle=settled, reference="QT-03")
    settled.refresh_from_db()
    assert settled.state == CycleState.CLOSED
    assert settled.deadlines.get(kind="office_settlement").done_at is not None
    assert sent.figures == expected
    assert office.record_sent(actor=preparer_a, cycle=settled).pk == sent.pk  # twice: the first
    assert OfficeSettlement.objects.count() == 1
    assert AuditEvent.objects.filter(action="reconciliation.office_settlement.sent").count() == 1


def test_not_before_the_provider_is_settled(paid_cycle, preparer_a):
    with pytest.raises(office.OfficeSettlementRefused):
        office.record_sent(actor=preparer_a, cycle=paid_cycle)


def test_quarter_and_year_summaries(settled, preparer_a):
    expected = _expected(settled)
    data = office.summary(settled.approving_unit, 2026, 1)
    assert len(data) == 1 and data[0]["total"] == expected
    assert [m["month"] for m in data[0]["months"]] == [date(2026, 3, 1)]
    assert office.summary(settled.approving_unit, 2026, 2) == []
    for quarter, title in ((1, "Quý 1/2026"), (None, "Năm 2026")):
        ws = load_workbook(io.BytesIO(office.summary_xlsx(settled.approving_unit, 2026, quarter))).active
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        flat = [c for r in rows for c in r if c is not None]
        assert title in flat and str(settled.programme.name_vi) in flat
        month_row = next(r for r in rows if r[1] == "03/2026")
        assert month_row[2:10] == [expected[k] for k in office.COLUMNS]


def test_cli(settled, tmp_path, capsys):
    code = settled.approving_unit.area.code
    out = tmp_path / "qt.xlsx"
    call_command("office_settlement", "--unit", code, "--month", "2026-03", "--out", str(out), "--sent")
    printed = json.loads(capsys.readouterr().out)
    assert printed["rows"][0]["state"] == CycleState.CLOSED and printed["rows"][0]["fee"] == 20_000
    assert out.read_bytes()[:2] == b"PK"
    call_command("settle", "--cycle", str(settled.pk))
    shown = json.loads(capsys.readouterr().out)
    assert shown["settlement_state"] == "accepted" and shown["fee"] == 20_000


def test_demo_settles_past_paid_cycles_once(paid_cycle, tree):
    from ansinh.accounts.roles import Role
    from ansinh.reconciliation.settlement_demo import load_demo_settlements
    from tests.conftest import make_user

    make_user("buudien", Role.PROVIDER_STAFF, tree.a)
    make_user("canbo.phong", Role.OFFICE_OFFICER, tree.a)
    first = load_demo_settlements(today=date(2026, 5, 10))  # March is older than last month (April)
    assert first == {"submitted": 1, "accepted": 1, "sent": 1, "blocked": 0}
    paid_cycle.refresh_from_db()
    assert paid_cycle.state == CycleState.CLOSED
    assert OfficeSettlement.objects.get(cycle=paid_cycle).figures["fee"] == 20_000
    again = load_demo_settlements(today=date(2026, 5, 10))
    assert again == {"submitted": 0, "accepted": 0, "sent": 0, "blocked": 0}
