# ruff: noqa: F811 - the fixtures are imported from statement_fixtures and used as arguments
"""Reconciliation pages and API (issue 13 part 2): statement upload and its result, the worklist
(filters, area scoping), an exception's actions; another commune's officer gets a 404, a
read-only user a 403 and nothing is written."""

from __future__ import annotations

import io
from datetime import date

from django.urls import reverse
from openpyxl import Workbook

from ansinh.disbursement.models import Instruction, InstructionState
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.reconciliation import checks
from ansinh.reconciliation.models import (
    EntryOutcome,
    ReconException,
    ReconKind,
    ReconState,
    StatementEntry,
    StatementImport,
)
from tests.reconciliation.statement_fixtures import (  # noqa: F401
    END,
    _no_throttle_wait,
    approved,
    approver_a,
    contract,
    funded,
    people,
    preparer_a,
    provider_a,
    sent,
    statement_bytes,
    world,
)


def _exception(funded, people, preparer_a):  # noqa: F811
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(status=AccountStatus.CLOSED)
    checks.run_checks(actor=preparer_a, cycle=funded)
    return ReconException.objects.get(kind=ReconKind.NO_ACCOUNT_LISTED)


def test_worklist_detail_and_note(client_for, funded, people, preparer_a, viewer_a, officer_b):
    exc = _exception(funded, people, preparer_a)
    page = client_for(preparer_a).get(reverse("reconciliation:exceptions"), {"kind": "no_account_listed"})
    assert page.status_code == 200 and "Lê Thị Hai" in page.content.decode()
    detail = client_for(preparer_a).get(reverse("reconciliation:exception", args=[exc.pk]))
    assert detail.status_code == 200 and 'data-form="recon-to-cash"' in detail.content.decode()
    # another commune's officer: 404; their worklist shows nothing of A
    assert client_for(officer_b).get(reverse("reconciliation:exception", args=[exc.pk])).status_code == 404
    assert "Lê Thị Hai" not in client_for(officer_b).get(reverse("reconciliation:exceptions")).content.decode()
    # the read-only province monitor sees it, may not act
    assert client_for(viewer_a).get(reverse("reconciliation:exception", args=[exc.pk])).status_code == 200
    refused = client_for(viewer_a).post(reverse("reconciliation:exception_note", args=[exc.pk]), {"note": "x"})
    assert refused.status_code == 403
    exc.refresh_from_db()
    assert exc.state == ReconState.OPEN
    done = client_for(preparer_a).post(reverse("reconciliation:exception_note", args=[exc.pk]), {"note": "Đã xem"})
    assert done.status_code == 302
    exc.refresh_from_db()
    assert exc.state == ReconState.RESOLVED
    # the history reads as a Vietnamese sentence
    history = client_for(preparer_a).get(reverse("reconciliation:exception", args=[exc.pk])).content.decode()
    assert "đã đóng sai lệch sau khi kiểm tra" in history


def test_cycle_page_runs_the_checks(client_for, funded, people, preparer_a, viewer_a):
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(status=AccountStatus.CLOSED)
    url = reverse("reconciliation:cycle", args=[funded.pk])
    assert client_for(viewer_a).get(url).status_code == 200
    assert client_for(viewer_a).post(reverse("reconciliation:cycle_run", args=[funded.pk])).status_code == 403
    assert not ReconException.objects.exists()
    client_for(preparer_a).post(reverse("reconciliation:cycle_run", args=[funded.pk]))
    assert ReconException.objects.filter(kind=ReconKind.NO_ACCOUNT_LISTED).count() == 1


def test_statement_upload_page(client_for, sent, contract, preparer_a, viewer_a, officer_b):
    data = statement_bytes(contract)
    upload = io.BytesIO(data)
    upload.name = "sao-ke.xml"
    refused = client_for(viewer_a).post(
        reverse("reconciliation:statements"), {"provider": contract.provider_id, "source": "camt.053", "file": upload}
    )
    assert refused.status_code == 403 and not StatementImport.objects.exists()
    upload.seek(0)
    response = client_for(preparer_a).post(
        reverse("reconciliation:statements"), {"provider": contract.provider_id, "source": "camt.053", "file": upload}
    )
    job = StatementImport.objects.get()
    assert response.status_code == 302 and job.state == "applied"
    page = client_for(preparer_a).get(reverse("reconciliation:statement", args=[job.pk]))
    assert page.status_code == 200 and "KB-001" in page.content.decode()
    assert client_for(officer_b).get(reverse("reconciliation:statement", args=[job.pk])).status_code == 404


def test_xlsx_statement(sent, contract, preparer_a):
    from ansinh.reconciliation import statements

    credited = list(Instruction.objects.filter(state=InstructionState.CREDITED).order_by("end_to_end_id"))
    wb = Workbook()
    ws = wb.active
    ws.append(["SAO KÊ TÀI KHOẢN"])
    ws.append(["Số tài khoản", "1234567890123"])
    ws.append(["Từ ngày", "01/03/2026"])
    ws.append(["Đến ngày", END])
    ws.append([])
    ws.append(["STT", "Ngày hạch toán", "Ghi nợ", "Ghi có", "Mã tham chiếu", "Hoàn trả", "Lý do hoàn trả", "Diễn giải"])
    ws.append([1, date(2026, 3, 3), None, 2_525_000, "KB-001", None, None, "Tam ung KBNN KB-001"])
    for n, i in enumerate(credited, start=2):
        ws.append([n, END, f"{i.amount:,}".replace(",", "."), None, i.end_to_end_id, None, None, ""])
    ws.append([9, END, None, credited[0].amount, credited[0].end_to_end_id, "x", "AC04", "Hoàn trả"])
    out = io.BytesIO()
    wb.save(out)
    job = statements.import_statement(
        actor=preparer_a, content=out.getvalue(), provider=contract.provider, source="xlsx", file_name="sk.xlsx"
    )
    assert job.state == "applied", job.refused_reason
    rows = StatementEntry.objects.filter(job=job)
    assert rows.filter(outcome=EntryOutcome.MATCHED).count() == len(credited) + 2
    assert rows.get(kind="return").instruction == credited[0]
    # a row with both columns filled refuses the whole file, nothing written
    ws.append([10, END, 1000, 1000, "X", None, None, ""])
    out = io.BytesIO()
    wb.save(out)
    bad = statements.import_statement(
        actor=preparer_a, content=out.getvalue(), provider=contract.provider, source="xlsx", file_name="sk2.xlsx"
    )
    assert bad.state == "refused" and "13" in bad.refused_reason  # the spreadsheet row
    assert StatementEntry.objects.filter(job=bad).count() == 0


def test_api(api_client_for, funded, people, preparer_a, viewer_a, officer_b):
    ReceivingAccount.objects.filter(beneficiary=people["Lê Thị Hai"]).update(status=AccountStatus.CLOSED)
    assert api_client_for(viewer_a).post(f"/api/v1/reconciliation/cycles/{funded.pk}/checks").status_code == 403
    run = api_client_for(preparer_a).post(f"/api/v1/reconciliation/cycles/{funded.pk}/checks")
    assert run.status_code == 200 and run.json()["opened"] == 1
    listed = api_client_for(preparer_a).get("/api/v1/reconciliation/exceptions").json()
    assert listed["count"] == 1
    exc_id = listed["items"][0]["id"]
    assert listed["items"][0]["kind"] == "no_account_listed" and "to_cash" in listed["items"][0]["actions"]
    assert api_client_for(officer_b).get(f"/api/v1/reconciliation/exceptions/{exc_id}").status_code == 404
    assert api_client_for(officer_b).get("/api/v1/reconciliation/exceptions").json()["count"] == 0
    body = {"action": "note", "note": "Đã kiểm tra"}
    refused = api_client_for(viewer_a).post(
        f"/api/v1/reconciliation/exceptions/{exc_id}/resolve", body, content_type="application/json"
    )
    assert refused.status_code == 403
    done = api_client_for(preparer_a).post(
        f"/api/v1/reconciliation/exceptions/{exc_id}/resolve", body, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["state"] == "resolved"


def test_api_statement_upload(api_client_for, sent, contract, preparer_a, viewer_a, officer_b):
    url = f"/api/v1/reconciliation/contracts/{contract.pk}/statements"
    upload = io.BytesIO(statement_bytes(contract))
    upload.name = "sao-ke.xml"
    assert api_client_for(viewer_a).post(url, {"file": upload}).status_code == 403
    upload.seek(0)
    assert api_client_for(officer_b).post(url, {"file": upload}).status_code == 404
    upload.seek(0)
    done = api_client_for(preparer_a).post(url, {"file": upload, "format": "camt.053"})
    assert done.status_code == 200 and done.json()["state"] == "applied"
    assert done.json()["account"] == "•••• 0123"
    got = api_client_for(preparer_a).get(f"/api/v1/reconciliation/statements/{done.json()['id']}")
    assert got.status_code == 200 and got.json()["entries"] == done.json()["entries"]
