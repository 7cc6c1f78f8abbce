"""The transfer leg on the pages and over the API (issue 11): the cycle's batches, one batch's
transfers, the exceptions worklist with its actions and the sandbox bank, in Vietnamese for the
office and the provider; build → download → sandbox bank → import through the views; another
commune's staff gets 404, a read-only user 403 on every write and nothing changes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.disbursement import sandbox
from ansinh.disbursement.formats import pain002
from ansinh.disbursement.models import (
    BatchState,
    ExceptionKind,
    ExceptionState,
    ExportedFile,
    Instruction,
    InstructionState,
    ProviderBatch,
    Resolution,
    StatusImport,
    TransferException,
)
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.payroll.models import CycleState, FixState, LineFix
from ansinh.registry.models import Beneficiary, Status
from tests.conftest import make_user
from tests.disbursement.conftest import open_account
from tests.web.test_vietnamese_everywhere import choice_values, english_msgids, findings, visible_text

I = InstructionState  # noqa: E741


def content_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def office(tree):
    """An office officer and a provider's clerk whose login names read as names (the menu shows them)."""
    return make_user("vanphong", Role.OFFICE_OFFICER, tree.a)


@pytest.fixture
def clerk(tree):
    return make_user("buudien", Role.PROVIDER_STAFF, tree.a)


@pytest.fixture
def office_b(tree):
    return make_user("vanphongb", Role.OFFICE_OFFICER, tree.b)


def close_account(name: str) -> None:
    """The bank closed the account after the payroll was approved: the sandbox bank rejects it (AC04)."""
    ReceivingAccount.objects.filter(beneficiary__full_name=name).update(status=AccountStatus.CLOSED)


def build(client, cycle):
    return client.post(reverse("payroll:transfers_build", args=[cycle.pk]), follow=True)


def loop_through_the_views(client, cycle):
    """Build, download the pain.001, have the sandbox bank answer it, import the answer."""
    build(client, cycle)
    batch = ProviderBatch.objects.get(cycle=cycle)
    response = client.get(reverse("payroll:transfer_file", args=[batch.pk, "pain001"]))
    assert response.status_code == 200, response
    order = content_of(response)
    assert order.startswith(b"<?xml") and batch.message_id.encode() in order
    answer = client.post(
        reverse("payroll:sandbox_bank"),
        {"action": "receive", "file": SimpleUploadedFile("lenh.xml", order, content_type="application/xml")},
    )
    assert answer.status_code == 200 and answer["Content-Disposition"].startswith("attachment")
    report = content_of(answer)
    assert b"pain.002.001.10" in report
    page = client.post(
        reverse("payroll:transfer_status_file", args=[batch.pk]),
        {"source": "pain.002", "file": SimpleUploadedFile("tra-loi.xml", report, content_type="application/xml")},
        follow=True,
    )
    return batch, order, report, page


# --- the pages ------------------------------------------------------------------------------------------


def test_pages_render_in_vietnamese_for_the_office_and_the_provider(client_for, funded, people, office, clerk):
    close_account("Lê Thị Hai")
    client = client_for(office)
    batch, _order, _report, _page = loop_through_the_views(client, funded)
    exc = TransferException.objects.get(kind=ExceptionKind.REJECTED, line__beneficiary__full_name="Lê Thị Hai")
    open_account(Beneficiary.objects.get(full_name="Lê Thị Hai"), "1000200030009")  # the corrected account
    urls = [
        reverse("payroll:cycle", args=[funded.pk]),
        reverse("payroll:transfers", args=[funded.pk]),
        reverse("payroll:transfer_batch", args=[batch.pk]),
        reverse("payroll:transfer_batch", args=[batch.pk]) + "?state=rejected",
        reverse("payroll:transfer_exceptions"),
        reverse("payroll:transfer_exceptions") + "?state=all&kind=rejected",
        reverse("payroll:transfer_exception", args=[exc.pk]),
        reverse("payroll:sandbox_bank"),
    ]
    choices, msgids = choice_values(), english_msgids()
    for user in (office, clerk):
        client = client_for(user)
        problems = []
        with translation.override("vi"):
            for url in urls:
                response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
                assert response.status_code == 200, (user, url, response.status_code)
                problems += [
                    f"{user}: {url}: {f}"
                    for f in findings(visible_text(response.content.decode()), choices=choices, msgids=msgids)
                ]
        assert problems == [], "\n".join(problems)
    with translation.override("vi"):
        page = client_for(office).get(reverse("payroll:transfers", args=[funded.pk])).content.decode()
        assert "Chuyển khoản" in page and batch.message_id in page
        assert ExportedFile.objects.get(batch=batch).sha256 in page
        detail = client_for(office).get(reverse("payroll:transfer_exception", args=[exc.pk])).content.decode()
        assert capfirst(pain002.reason_text("AC04")) in detail
        assert 'data-form="exception-resend"' in detail and 'data-form="exception-to-cash"' in detail
        cycle_page = client_for(office).get(reverse("payroll:cycle", args=[funded.pk])).content.decode()
        assert reverse("payroll:transfers", args=[funded.pk]) in cycle_page


def test_build_export_sandbox_and_import_through_the_views(client_for, funded, people, preparer_a):
    close_account("Lê Thị Hai")
    client = client_for(preparer_a)
    batch, order, report, page = loop_through_the_views(client, funded)
    assert page.status_code == 200
    batch.refresh_from_db()
    funded.refresh_from_db()
    assert batch.state == BatchState.REPORTED
    assert funded.state == CycleState.PAYING
    states = dict(Instruction.objects.filter(batch=batch).values_list("line__beneficiary__full_name", "state"))
    assert states["Lê Thị Hai"] == I.REJECTED
    assert list(states.values()).count(I.CREDITED) == 3
    job = StatusImport.objects.get(batch=batch)
    assert job.summary["rows"] == 4
    text = page.content.decode()
    assert f'data-job="{job.pk}"' in text  # the job and its summary are on the page
    assert AuditEvent.objects.filter(action="disbursement.file.exported", actor=preparer_a).exists()
    # the same answer again changes nothing
    again = client.post(
        reverse("payroll:transfer_status_file", args=[batch.pk]),
        {"source": "pain.002", "file": SimpleUploadedFile("lai.xml", report)},
        follow=True,
    )
    assert again.status_code == 200 and StatusImport.objects.count() == 1
    # the XLSX list of the same batch: the same transfers, written and recorded
    xlsx = client.get(reverse("payroll:transfer_file", args=[batch.pk, "xlsx"]))
    assert xlsx.status_code == 200 and content_of(xlsx)[:2] == b"PK"
    assert ExportedFile.objects.filter(batch=batch).count() == 2
    # a file that is not a status report: a message, never a server error
    bad = client.post(
        reverse("payroll:transfer_status_file", args=[batch.pk]),
        {"source": "pain.002", "file": SimpleUploadedFile("hong.xml", b"<khong-phai/>")},
        follow=True,
    )
    assert bad.status_code == 200 and StatusImport.objects.count() == 1
    assert list(bad.context["messages"])
    # the transfers of the batch, filtered
    rejected = client.get(reverse("payroll:transfer_batch", args=[batch.pk]), {"state": "rejected"})
    assert rejected.status_code == 200
    assert len(rejected.context["instructions"]) == 1
    assert "•••• 0002" in rejected.content.decode() and "1000200030002" not in rejected.content.decode()


def test_rejected_transfer_switched_to_cash_from_the_exception_page(client_for, funded, people, preparer_a):
    close_account("Lê Thị Hai")
    client = client_for(preparer_a)
    loop_through_the_views(client, funded)
    exc = TransferException.objects.get(kind=ExceptionKind.REJECTED, line__beneficiary__full_name="Lê Thị Hai")
    listing = client.get(reverse("payroll:transfer_exceptions"))
    assert exc in listing.context["exceptions"]
    assert "Lê Thị Hai" in listing.content.decode()
    response = client.post(
        reverse("payroll:transfer_exception_fix", args=[exc.pk]),
        {"kind": "to_cash", "reason": "Tài khoản đã đóng"},
        follow=True,
    )
    assert response.status_code == 200
    exc.refresh_from_db()
    assert exc.state == ExceptionState.IN_HAND and exc.fix.state == FixState.REQUESTED
    assert 'data-section="fix-awaiting"' in response.content.decode()
    # asked once: a second request is refused with a message, nothing more is written
    again = client.post(
        reverse("payroll:transfer_exception_fix", args=[exc.pk]), {"kind": "to_cash", "reason": "Lần nữa"}, follow=True
    )
    assert again.status_code == 200 and LineFix.objects.count() == 1


def test_resend_to_a_corrected_account_of_the_beneficiary(client_for, funded, people, preparer_a):
    close_account("Lê Thị Hai")
    client = client_for(preparer_a)
    loop_through_the_views(client, funded)
    exc = TransferException.objects.get(kind=ExceptionKind.REJECTED, line__beneficiary__full_name="Lê Thị Hai")
    detail = client.get(reverse("payroll:transfer_exception", args=[exc.pk])).content.decode()
    assert 'data-form="exception-resend"' not in detail  # no active account to send to yet
    corrected = open_account(Beneficiary.objects.get(full_name="Lê Thị Hai"), "1000200030009")
    detail = client.get(reverse("payroll:transfer_exception", args=[exc.pk])).content.decode()
    assert 'data-form="exception-resend"' in detail and "•••• 0009" in detail
    # another person's account is refused
    other = ReceivingAccount.objects.get(beneficiary__full_name="Trần Văn Một")
    client.post(
        reverse("payroll:transfer_exception_fix", args=[exc.pk]),
        {"kind": "resend", "account": other.pk, "reason": "Sai"},
    )
    assert LineFix.objects.count() == 0
    exc.refresh_from_db()
    assert exc.state == ExceptionState.OPEN
    client.post(
        reverse("payroll:transfer_exception_fix", args=[exc.pk]),
        {"kind": "resend", "account": corrected.pk, "reason": "Tài khoản cũ đã đóng"},
    )
    fix = LineFix.objects.get()
    assert fix.kind == "resend" and fix.account == corrected and fix.state == FixState.REQUESTED
    exc.refresh_from_db()
    assert exc.state == ExceptionState.IN_HAND and exc.fix == fix


def test_held_line_settled_from_the_exception_page(client_for, funded, people, preparer_a):
    Beneficiary.objects.filter(full_name="Phạm Văn Ba").update(status=Status.SUSPENDED)
    client = client_for(preparer_a)
    page = build(client, funded)
    assert page.status_code == 200
    exc = TransferException.objects.get(kind=ExceptionKind.HELD)
    detail = client.get(reverse("payroll:transfer_exception", args=[exc.pk])).content.decode()
    assert 'data-form="exception-hold"' in detail
    # a note is needed: a message, nothing changes
    client.post(reverse("payroll:transfer_exception_hold", args=[exc.pk]), {"decision": "keep", "note": ""})
    exc.refresh_from_db()
    assert exc.state == ExceptionState.OPEN
    client.post(reverse("payroll:transfer_exception_hold", args=[exc.pk]), {"decision": "keep", "note": "Đã tạm dừng"})
    exc.refresh_from_db()
    assert exc.state == ExceptionState.RESOLVED and exc.resolution == Resolution.NOT_PAID
    assert exc.instruction.state == I.CANCELLED


def test_send_to_the_bank_and_ask_for_the_status_through_the_views(client_for, funded, people, clerk):
    client = client_for(clerk)  # the provider's staff operates the transfers too
    build(client, funded)
    batch = ProviderBatch.objects.get(cycle=funded)
    response = client.post(reverse("payroll:transfer_submit", args=[batch.pk]), follow=True)
    assert response.status_code == 200
    batch.refresh_from_db()
    assert batch.submitted_at is not None and StatusImport.objects.filter(batch=batch).count() == 1
    # sent once: a second send is refused with a message
    again = client.post(reverse("payroll:transfer_submit", args=[batch.pk]), follow=True)
    assert again.status_code == 200 and any(
        "Hỏi" in str(m) or m.level_tag == "error" for m in again.context["messages"]
    )
    query = client.post(reverse("payroll:transfer_query", args=[batch.pk]), {"next": "batch"})
    assert query.status_code == 302 and query["Location"] == reverse("payroll:transfer_batch", args=[batch.pk])


def test_sandbox_page_answers_a_status_query_and_refuses_a_bad_file(client_for, funded, people, preparer_a, settings):
    client = client_for(preparer_a)
    loop_through_the_views(client, funded)
    batch = ProviderBatch.objects.get(cycle=funded)
    status = client.post(reverse("payroll:sandbox_bank"), {"action": "status", "message_id": batch.message_id})
    assert status.status_code == 200 and b"pain.002.001.10" in content_of(status)
    unknown = client.post(reverse("payroll:sandbox_bank"), {"action": "status", "message_id": "KHONG-CO"})
    assert unknown.status_code == 200 and list(unknown.context["messages"])
    bad = client.post(
        reverse("payroll:sandbox_bank"), {"action": "receive", "file": SimpleUploadedFile("x.xml", b"<a/>")}
    )
    assert bad.status_code == 200 and list(bad.context["messages"])
    settings.ANSINH_BANK_GATEWAY = "http"
    assert client.get(reverse("payroll:sandbox_bank")).status_code == 404


# --- who may see and do what -------------------------------------------------------------------------


def _urls(cycle, batch, exc) -> tuple[list[str], list[str]]:
    pages = [
        reverse("payroll:transfers", args=[cycle.pk]),
        reverse("payroll:transfer_batch", args=[batch.pk]),
        reverse("payroll:transfer_file", args=[batch.pk, "pain001"]),
        reverse("payroll:transfer_file", args=[batch.pk, "xlsx"]),
        reverse("payroll:transfer_exception", args=[exc.pk]),
    ]
    posts = [
        reverse("payroll:transfers_build", args=[cycle.pk]),
        reverse("payroll:transfer_submit", args=[batch.pk]),
        reverse("payroll:transfer_query", args=[batch.pk]),
        reverse("payroll:transfer_status_file", args=[batch.pk]),
        reverse("payroll:transfer_exception_fix", args=[exc.pk]),
        reverse("payroll:transfer_exception_hold", args=[exc.pk]),
        reverse("payroll:transfer_exception_overpayment", args=[exc.pk]),
        reverse("payroll:transfer_exception_query", args=[exc.pk]),
    ]
    return pages, posts


def _state():
    return (
        list(ProviderBatch.objects.values_list("pk", "state", "submitted_at", "exported_at", "last_query_at")),
        list(Instruction.objects.values_list("pk", "state")),
        list(TransferException.objects.values_list("pk", "state")),
        ExportedFile.objects.count(),
        StatusImport.objects.count(),
        LineFix.objects.count(),
    )


def test_another_communes_staff_gets_404(client_for, funded, people, preparer_a, officer_b, office_b):
    Beneficiary.objects.filter(full_name="Phạm Văn Ba").update(status=Status.SUSPENDED)
    build(client_for(preparer_a), funded)
    batch = ProviderBatch.objects.get(cycle=funded)
    exc = TransferException.objects.get()
    pages, posts = _urls(funded, batch, exc)
    before = _state()
    for user in (officer_b, office_b):
        client = client_for(user)
        for url in pages:
            assert client.get(url).status_code == 404, (user, url)
        for url in posts:
            assert (
                client.post(url, {"kind": "to_cash", "reason": "x", "decision": "keep", "note": "x"}).status_code == 404
            )
        listing = client.get(reverse("payroll:transfer_exceptions"), {"state": "all"})
        assert listing.status_code in (200, 403)
        if listing.status_code == 200:
            assert "Phạm Văn Ba" not in listing.content.decode()
    assert _state() == before


def test_a_reader_sees_without_buttons_and_gets_403_on_every_write(client_for, funded, people, preparer_a, viewer_a):
    Beneficiary.objects.filter(full_name="Phạm Văn Ba").update(status=Status.SUSPENDED)
    build(client_for(preparer_a), funded)
    batch = ProviderBatch.objects.get(cycle=funded)
    exc = TransferException.objects.get()
    pages, posts = _urls(funded, batch, exc)
    client = client_for(viewer_a)
    page = client.get(pages[0])
    assert page.status_code == 200
    text = page.content.decode()
    assert batch.message_id in text
    assert 'data-form="transfers-build"' not in text and 'data-link="pain001"' not in text
    detail = client.get(pages[-1])
    assert detail.status_code == 200 and 'data-form="exception-hold"' not in detail.content.decode()
    assert client.get(reverse("payroll:transfer_exceptions")).status_code == 200
    before = _state()
    events = AuditEvent.objects.count()
    for url in pages[2:4]:  # a download writes the file: an operator's act
        assert client.get(url).status_code == 403
    for url in posts:
        data = {"kind": "to_cash", "reason": "x", "decision": "keep", "note": "x", "source": "pain.002"}
        data["file"] = SimpleUploadedFile("a.xml", b"<a/>")
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("payroll:sandbox_bank")).status_code == 403
    assert _state() == before and AuditEvent.objects.count() == events


# --- the API ------------------------------------------------------------------------------------------------


def test_the_api_runs_the_loop(api_client_for, funded, people, preparer_a, tmp_path):
    close_account("Lê Thị Hai")
    api = api_client_for(preparer_a)
    made = api.post(f"/api/v1/disbursement/cycles/{funded.pk}/batches")
    assert made.status_code == 200, made.content
    body = made.json()
    assert body["created"] == 4 and body["held"] == 0 and body["refusals"] == []
    batch_id = body["batches"][0]["id"]
    assert body["batches"][0]["state"] == "created" and body["batches"][0]["state_label"]
    listed = api.get("/api/v1/disbursement/batches", {"cycle_id": funded.pk}).json()
    assert [b["id"] for b in listed["items"]] == [batch_id]
    assert api.get("/api/v1/disbursement/batches", {"state": "closed"}).json()["count"] == 0
    xlsx = api.get(f"/api/v1/disbursement/batches/{batch_id}/file", {"format": "xlsx"})
    assert xlsx.status_code == 200 and content_of(xlsx)[:2] == b"PK"
    sent = api.post(f"/api/v1/disbursement/batches/{batch_id}/submit")
    assert sent.status_code == 200, sent.content
    job = sent.json()["status_import"]
    assert job["state"] == "applied" and job["rows"] == 4
    assert {o["outcome"] for o in job["outcomes"]} == {"applied"} and all(o["outcome_label"] for o in job["outcomes"])
    assert api.get(f"/api/v1/disbursement/status-imports/{job['id']}").json()["id"] == job["id"]
    again = api.post(f"/api/v1/disbursement/batches/{batch_id}/submit")
    assert again.status_code == 422
    detail = api.get(f"/api/v1/disbursement/batches/{batch_id}").json()
    assert (
        detail["state"] == "reported" and len(detail["files"]) == 2 and detail["status_imports"][0]["id"] == job["id"]
    )
    rejected = api.get(f"/api/v1/disbursement/batches/{batch_id}/instructions", {"state": "rejected"}).json()
    assert rejected["count"] == 1
    row = rejected["items"][0]
    assert row["reason"] == capfirst(pain002.reason_text("AC04")) and row["account"].endswith("0002")
    assert "1000200030002" not in str(rejected)
    queried = api.post(f"/api/v1/disbursement/batches/{batch_id}/query")
    assert queried.status_code == 200 and queried.json()["status_import"]["state"] == "applied"
    # a status file over multipart: the sandbox's answer to the same file again changes nothing
    source = tmp_path / "lenh.xml"
    source.write_bytes(content_of(api.get(f"/api/v1/disbursement/batches/{batch_id}/file")))
    out = io.BytesIO()
    sandbox.receive(source, out, now=timezone.now() + timedelta(minutes=5))  # a later answer: a new file
    upload = api.post(
        f"/api/v1/disbursement/batches/{batch_id}/status-files",
        {"file": SimpleUploadedFile("tra-loi.xml", out.getvalue()), "format": "pain.002"},
    )
    assert upload.status_code == 200, upload.content
    assert upload.json()["state"] == "applied"
    assert [o["outcome"] for o in upload.json()["outcomes"]] == ["unchanged"]
    unreadable = api.post(
        f"/api/v1/disbursement/batches/{batch_id}/status-files",
        {"file": SimpleUploadedFile("x.xml", b"<a/>"), "format": "pain.002"},
    )
    assert unreadable.status_code == 422
    # the exception of the rejected transfer, and its fix
    excs = api.get("/api/v1/disbursement/exceptions").json()
    assert excs["count"] == 1
    exc = excs["items"][0]
    assert exc["kind"] == "rejected" and exc["kind_label"] and exc["beneficiary"] == "Lê Thị Hai"
    assert api.get(f"/api/v1/disbursement/exceptions/{exc['id']}").json()["id"] == exc["id"]
    wrong = api.post(
        f"/api/v1/disbursement/exceptions/{exc['id']}/hold",
        {"release": True, "note": "x"},
        content_type="application/json",
    )
    assert wrong.status_code == 422
    missing = api.post(
        f"/api/v1/disbursement/exceptions/{exc['id']}/fix",
        {"kind": "resend", "reason": "Tài khoản mới"},
        content_type="application/json",
    )
    assert missing.status_code == 422
    fixed = api.post(
        f"/api/v1/disbursement/exceptions/{exc['id']}/fix",
        {"kind": "to_cash", "reason": "Tài khoản đã đóng"},
        content_type="application/json",
    )
    assert fixed.status_code == 200, fixed.content
    assert fixed.json()["state"] == "requested" and fixed.json()["exception"]["state"] == "in_hand"
    assert api.get("/api/v1/disbursement/exceptions", {"state": "open"}).json()["count"] == 0
    assert api.get("/api/v1/disbursement/exceptions", {"state": "in_hand", "kind": "rejected"}).json()["count"] == 1


def test_the_api_scopes_and_refuses(api_client_for, funded, people, preparer_a, viewer_a, officer_b, office_b):
    Beneficiary.objects.filter(full_name="Phạm Văn Ba").update(status=Status.SUSPENDED)
    api = api_client_for(preparer_a)
    body = api.post(f"/api/v1/disbursement/cycles/{funded.pk}/batches").json()
    assert body["held"] == 1
    batch_id = body["batches"][0]["id"]
    exc_id = TransferException.objects.get().pk
    before = _state()
    reads = [
        f"/api/v1/disbursement/batches/{batch_id}",
        f"/api/v1/disbursement/batches/{batch_id}/instructions",
        f"/api/v1/disbursement/exceptions/{exc_id}",
    ]
    writes = [
        (f"/api/v1/disbursement/cycles/{funded.pk}/batches", None),
        (f"/api/v1/disbursement/batches/{batch_id}/submit", None),
        (f"/api/v1/disbursement/batches/{batch_id}/query", None),
        (f"/api/v1/disbursement/exceptions/{exc_id}/hold", {"release": False, "note": "x"}),
        (f"/api/v1/disbursement/exceptions/{exc_id}/overpayment", {"recover": False, "note": "x"}),
        (f"/api/v1/disbursement/exceptions/{exc_id}/fix", {"kind": "to_cash", "reason": "x"}),
    ]
    reader = api_client_for(viewer_a)
    for url in reads:
        assert reader.get(url).status_code == 200, url
    assert reader.get(f"/api/v1/disbursement/batches/{batch_id}/file").status_code == 403
    for url, data in writes:
        assert reader.post(url, data or {}, content_type="application/json").status_code == 403, url
    assert reader.post(f"/api/v1/disbursement/batches/{batch_id}/status-files").status_code == 403
    for user in (officer_b, office_b):
        outsider = api_client_for(user)
        for url in [*reads, f"/api/v1/disbursement/batches/{batch_id}/file"]:
            assert outsider.get(url).status_code == 404, url
        for url, data in writes:
            assert outsider.post(url, data or {}, content_type="application/json").status_code == 404, url
        assert outsider.get("/api/v1/disbursement/batches").json()["count"] == 0
        assert outsider.get("/api/v1/disbursement/exceptions", {"state": "all"}).json()["count"] == 0
    assert _state() == before
    # the office settles the hold over the API
    settled = api.post(
        f"/api/v1/disbursement/exceptions/{exc_id}/hold",
        {"release": True, "note": "Đã hoạt động lại"},
        content_type="application/json",
    )
    assert settled.status_code == 200, settled.content
    assert settled.json()["state"] == "resolved" and settled.json()["resolution"] == "noted"
    assert Instruction.objects.get(pk=settled.json()["instruction_id"]).state == I.CREATED
