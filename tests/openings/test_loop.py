"""The account-opening loop: a village head's request, the commune's confirmation, the file for the
bank, the bank's results (the sandbox's and hand-made ones), the accounts and the switch to account
payment; all-or-nothing imports, idempotence, and who may do what."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from ansinh.audit.models import AuditEvent
from ansinh.openings import sandbox, services
from ansinh.openings.models import OpeningBatch, OpeningRequest, OpeningResultImport, RequestStatus
from ansinh.payments import crypto
from ansinh.payments import services as payment_services
from ansinh.payments.models import AccountChange, AccountStatus, ReceivingAccount

from .conftest import results_csv, results_xlsx

pytestmark = pytest.mark.django_db


def _sheet_rows(content: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _exported(head_a, officer_a, people, switch=True):
    reqs = [services.request_opening(actor=head_a, beneficiary=p, switch_method=switch) for p in people]
    assert services.confirm_requests(actor=officer_a, requests=reqs) == len(reqs)
    batch = services.export_batch(actor=officer_a, commune=people[0].commune)
    return [OpeningRequest.objects.get(pk=r.pk) for r in reqs], batch


def test_the_whole_loop_from_the_village_head_to_an_active_account(
    tree, head_a, officer_a, make_person, guardian_input
):
    ann = make_person("Nguyễn Thị Ánh")
    binh = make_person("Lê Thị Bé", rep=guardian_input)
    link = binh.representations.get()
    r1 = services.request_opening(actor=head_a, beneficiary=ann, switch_method=True)
    r2 = services.request_opening(actor=head_a, beneficiary=binh, representation=link, switch_method=False)
    assert r1.status == RequestStatus.REQUESTED and r1.requested_by == head_a
    assert r1.institution.code == "NAB"  # the default bank, as in the demo

    assert services.confirm_requests(actor=officer_a, requests=[r1, r2]) == 2
    batch = services.export_batch(actor=officer_a, commune=tree.a)
    assert batch.count == 2 and len(batch.sha256) == 64
    r1.refresh_from_db()
    r2.refresh_from_db()
    assert r1.status == RequestStatus.EXPORTED and r1.batch == batch
    # what was sent is kept on the request: the representative's data for the representative
    assert r2.full_name == "Trần Văn Bình" and r2.cccd == link.representative.cccd and r2.phone == "+84987654321"

    rows = _sheet_rows(bytes(batch.content))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "STT")
    assert rows[header_at] == ["STT", "Họ và tên", "Ngày sinh", "Số CCCD", "Số điện thoại", "Địa chỉ", "Mã yêu cầu"]
    assert any("UBND" in str(r[0]) for r in rows[:header_at])  # the title block
    body = {r[6]: r for r in rows[header_at + 1 :] if r and r[0]}
    assert body[r1.code][1:5] == ["Nguyễn Thị Ánh", "17/05/1940", ann.cccd, "0912345678"]
    assert "Châu Phú A" in body[r1.code][5]
    assert body[r2.code][1] == "Trần Văn Bình"
    assert AuditEvent.objects.filter(action="openings.batch.exported").count() == 1

    today = timezone.localdate().strftime("%d/%m/%Y")
    content = results_xlsx(
        [
            {
                "code": r1.code,
                "holder_name": "NGUYEN THI ANH",
                "result": "Đã mở",
                "number": "123456789012",
                "opened_on": today,
            },
            {"code": r2.code, "result": "Từ chối", "reason": "Số CCCD không khớp"},
        ]
    )
    outcome = services.import_results(actor=officer_a, content=content, file_name="ket-qua.xlsx", batch=batch)
    assert outcome.ok, outcome.errors
    assert (outcome.opened, outcome.rejected, outcome.activated) == (1, 1, 1)
    r1.refresh_from_db()
    r2.refresh_from_db()
    assert r1.status == RequestStatus.OPENED and r1.opened_on == timezone.localdate()
    account = r1.account
    assert account.status == AccountStatus.ACTIVE and account.holder_name == "NGUYEN THI ANH"
    assert account.holder_representation is None and account.beneficiary == ann
    assert crypto.decrypt(account.number_encrypted) == "123456789012"
    assert r2.status == RequestStatus.REJECTED and r2.reject_reason == "Số CCCD không khớp"

    assert outcome.switch_requested == 1
    assert AccountChange.objects.filter(beneficiary=ann, account=account).exists()


def test_a_weak_holder_name_leaves_the_account_pending_for_a_person(head_a, officer_a, make_person):
    (req,), batch = _exported(head_a, officer_a, [make_person("Nguyễn Thị Ánh")])
    content = results_xlsx(
        [
            {
                "code": req.code,
                "holder_name": "NGUYEN ANH",
                "result": "Đã mở",
                "number": "123456789012",
                "opened_on": date.today(),
            }
        ]
    )
    outcome = services.import_results(actor=officer_a, content=content, file_name="r.xlsx", batch=batch)
    assert outcome.ok and outcome.to_review == 1 and outcome.activated == 0
    req.refresh_from_db()
    assert req.status == RequestStatus.OPENED and req.account.status == AccountStatus.PENDING


def test_the_sandbox_opens_most_and_rejects_some(head_a, officer_a, make_person):
    people = [make_person(f"Nguyễn Thị Ánh {chr(65 + i)}") for i in range(30)]
    reqs, batch = _exported(head_a, officer_a, people, switch=False)
    # the request codes carry database ids (they differ with the tests run before on PostgreSQL):
    # a seed under which at least one of these 30 is refused, as about 8 in 100 are
    seed = next(s for s in (f"loop-{i}" for i in range(200)) if any(sandbox._bucket(s, r.code) % 100 < 8 for r in reqs))
    name, content = sandbox.answer_batch(batch, seed=seed)
    assert sandbox.answer_batch(batch, seed=seed)[1] != b"" and name.endswith(".xlsx")
    rows = _sheet_rows(content)
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "Mã yêu cầu")
    results = [r for r in rows[header_at + 1 :] if r and r[0]]
    assert len(results) == 30
    outcome = services.import_results(actor=officer_a, content=content, file_name=name, batch=batch)
    assert outcome.ok, outcome.errors
    assert outcome.opened + outcome.rejected == 30
    assert outcome.opened >= 20 and outcome.rejected >= 1
    assert outcome.activated + outcome.to_review == outcome.opened
    reasons = set(OpeningRequest.objects.filter(status=RequestStatus.REJECTED).values_list("reject_reason", flat=True))
    assert reasons <= {sandbox.REJECT_CCCD, sandbox.REJECT_PHONE}
    # deterministic: the same batch gets the same answer
    assert [r[:4] for r in _sheet_rows(sandbox.answer_batch(batch, seed=seed)[1])[header_at + 1 :]] == [
        r[:4] for r in results
    ]


def test_importing_the_same_file_twice_changes_nothing(head_a, officer_a, make_person):
    (req,), batch = _exported(head_a, officer_a, [make_person()])
    content = results_xlsx(
        [
            {
                "code": req.code,
                "holder_name": "NGUYEN THI ANH",
                "result": "Đã mở",
                "number": "123456789012",
                "opened_on": date.today(),
            }
        ]
    )
    first = services.import_results(actor=officer_a, content=content, file_name="r.xlsx", batch=batch)
    assert first.ok and first.opened == 1
    counts = (ReceivingAccount.objects.count(), AuditEvent.objects.count(), OpeningResultImport.objects.count())
    second = services.import_results(actor=officer_a, content=content, file_name="r.xlsx", batch=batch)
    assert second.duplicate and second.opened == 0 and second.import_id == first.import_id
    # another file with the same answers: every row unchanged
    again = services.import_results(
        actor=officer_a,
        content=results_csv(
            [
                {
                    "code": req.code,
                    "holder_name": "NGUYEN THI ANH",
                    "result": "Đã mở",
                    "number": "123456789012",
                    "opened_on": date.today().strftime("%d/%m/%Y"),
                }
            ]
        ),
        file_name="r.csv",
        batch=batch,
    )
    assert again.ok and again.unchanged == 1 and again.opened == 0
    assert ReceivingAccount.objects.count() == counts[0]
    assert OpeningResultImport.objects.count() == counts[2] + 1


def test_a_row_error_leaves_nothing_written(head_a, officer_a, make_person):
    reqs, batch = _exported(head_a, officer_a, [make_person("Nguyễn Thị Ánh"), make_person("Lê Thị Bé")])
    tomorrow = date.today() + timedelta(days=1)
    content = results_xlsx(
        [
            {
                "code": reqs[0].code,
                "holder_name": "NGUYEN THI ANH",
                "result": "Đã mở",
                "number": "123456789012",
                "opened_on": date.today(),
            },
            {
                "code": reqs[1].code,
                "holder_name": "LE THI BE",
                "result": "Đã mở",
                "number": "12AB",
                "opened_on": tomorrow,
            },
            {"code": "MTK9999999", "result": "Từ chối", "reason": "x"},
            {"code": "không phải mã", "result": "???"},
        ]
    )
    before = (ReceivingAccount.objects.count(), AuditEvent.objects.count())
    outcome = services.import_results(actor=officer_a, content=content, file_name="r.xlsx", batch=batch)
    assert not outcome.ok
    assert outcome.error_rows == 3
    messages = " ".join(e["message"] for e in outcome.errors)
    assert "future" in messages or "tương lai" in messages
    assert (ReceivingAccount.objects.count(), AuditEvent.objects.count()) == before
    assert not OpeningResultImport.objects.exists()
    assert set(OpeningRequest.objects.values_list("status", flat=True)) == {RequestStatus.EXPORTED}


def test_a_request_needs_cccd_and_phone_and_no_active_account(head_a, officer_a, make_person):
    no_phone = make_person("Võ Thị Không Số", phone="")
    with pytest.raises(ValidationError) as exc:
        services.request_opening(actor=head_a, beneficiary=no_phone)
    assert "registry" in " ".join(exc.value.messages) or "hồ sơ" in " ".join(exc.value.messages)
    no_cccd = make_person("Võ Thị Không Căn", cccd=False)
    with pytest.raises(ValidationError, match="CCCD"):
        services.request_opening(actor=head_a, beneficiary=no_cccd)
    p = make_person()
    services.request_opening(actor=head_a, beneficiary=p)
    with pytest.raises(ValidationError):  # one open request per person
        services.request_opening(actor=head_a, beneficiary=p)
    (req,), batch = _exported(head_a, officer_a, [make_person("Lê Thị Có")])
    services.import_results(
        actor=officer_a,
        content=results_xlsx(
            [
                {
                    "code": req.code,
                    "holder_name": "LE THI CO",
                    "result": "Đã mở",
                    "number": "123456789012",
                    "opened_on": date.today(),
                }
            ]
        ),
        file_name="r.xlsx",
        batch=batch,
    )
    with pytest.raises(ValidationError, match="active"), translation.override("en"):
        services.request_opening(actor=head_a, beneficiary=req.beneficiary)


def test_the_village_head_cannot_confirm_export_or_import(head_a, officer_a, make_person, client_for, api_client_for):
    req = services.request_opening(actor=head_a, beneficiary=make_person())
    with pytest.raises(PermissionDenied):
        services.confirm_requests(actor=head_a, requests=[req])
    client = client_for(head_a)
    assert client.post(reverse("openings:confirm"), {"request": [req.pk]}).status_code == 403
    assert client.get(reverse("openings:batches")).status_code == 403
    api = api_client_for(head_a)
    assert api.post(f"/api/v1/openings/requests/{req.pk}/confirm").status_code == 403
    req.refresh_from_db()
    assert req.status == RequestStatus.REQUESTED
    # the village head may withdraw the request before the commune confirms it
    assert client.post(reverse("openings:cancel", args=[req.pk])).status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.CANCELLED


def test_another_commune_reaches_nothing(tree, head_a, officer_a, officer_b, make_person, client_for, api_client_for):
    p = make_person()
    req = services.request_opening(actor=head_a, beneficiary=p)
    client = client_for(officer_b)
    assert client.get(reverse("openings:request_form", args=[p.pk])).status_code == 404
    assert client.post(reverse("openings:cancel", args=[req.pk])).status_code == 404
    client.post(reverse("openings:confirm"), {"request": [req.pk]})
    req.refresh_from_db()
    assert req.status == RequestStatus.REQUESTED
    assert p.full_name not in client.get(reverse("openings:requests")).content.decode()
    services.confirm_requests(actor=officer_a, requests=[req])
    batch = services.export_batch(actor=officer_a, commune=tree.a)
    assert client.get(reverse("openings:batch_file", args=[batch.pk])).status_code == 404
    assert client.post(reverse("openings:sandbox", args=[batch.pk])).status_code == 404
    assert client.post(reverse("openings:export"), {"commune": tree.a.pk}).status_code == 404
    api = api_client_for(officer_b)
    assert api.post(f"/api/v1/openings/requests/{req.pk}/cancel").status_code == 404
    assert api.get("/api/v1/openings/requests").json()["count"] == 0
    assert api.get("/api/v1/openings/batches").json() == []
    with pytest.raises(PermissionDenied):
        services.export_batch(actor=officer_b, commune=tree.a)


def test_the_pages_walk_the_loop(tree, head_a, officer_a, make_person, client_for, guardian_input):
    p = make_person("Nguyễn Thị Ánh", rep=guardian_input)
    head = client_for(head_a)
    page = head.get(reverse("openings:start"), {"q": "nguyen thi anh"})
    assert page.status_code == 200 and "Nguyễn Thị Ánh" in page.content.decode()
    form = head.get(reverse("openings:request_form", args=[p.pk]))
    assert "Trần Văn Bình" in form.content.decode()
    refused = head.post(reverse("openings:request_form", args=[p.pk]), {"who": "self"})
    assert refused.status_code == 422  # the phone was not confirmed
    link = p.representations.get()
    done = head.post(
        reverse("openings:request_form", args=[p.pk]),
        {"who": str(link.pk), "phone_confirmed": "on", "switch_method": "on"},
    )
    assert done.status_code == 302
    req = OpeningRequest.objects.get()
    assert req.representation == link and req.switch_method

    officer = client_for(officer_a)
    assert req.code in officer.get(reverse("openings:requests")).content.decode()
    officer.post(reverse("openings:confirm"), {"request": [req.pk]})
    officer.post(reverse("openings:export"), {"commune": tree.a.pk})
    batch = OpeningBatch.objects.get()
    download = officer.get(reverse("openings:batch_file", args=[batch.pk]))
    assert download.status_code == 200 and download.content == bytes(batch.content)
    assert AuditEvent.objects.filter(action="openings.batch.downloaded", actor=officer_a).exists()
    answered = officer.post(reverse("openings:sandbox", args=[batch.pk]))
    assert answered.status_code == 200
    req.refresh_from_db()
    assert req.status in (RequestStatus.OPENED, RequestStatus.REJECTED)
    bad = officer.post(
        reverse("openings:results", args=[batch.pk]),
        {"file": SimpleUploadedFile("x.xlsx", b"nope")},
    )
    assert bad.status_code == 422
    assert officer.get(reverse("openings:figures")).status_code == 200


def test_the_api_makes_and_confirms_requests(head_a, officer_a, make_person, api_client_for):
    p = make_person()
    head = api_client_for(head_a)
    made = head.post(
        "/api/v1/openings/requests", {"beneficiary_id": p.pk, "switch_method": True}, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "requested" and body["code"].startswith("MTK")
    again = head.post("/api/v1/openings/requests", {"beneficiary_id": p.pk}, content_type="application/json")
    assert again.status_code == 422
    officer = api_client_for(officer_a)
    assert officer.post(f"/api/v1/openings/requests/{body['id']}/confirm").json()["status"] == "confirmed"
    batch = officer.post("/api/v1/openings/batches", {"commune_id": p.commune_id}, content_type="application/json")
    assert batch.status_code == 201 and batch.json()["count"] == 1
    req = OpeningRequest.objects.get()
    content = results_csv([{"code": req.code, "result": "Từ chối", "reason": "Thiếu số điện thoại"}])
    answer = officer.post(
        f"/api/v1/openings/batches/{batch.json()['id']}/results",
        {"file_name": "r.csv", "content_base64": base64.b64encode(content).decode()},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["rejected"] == 1 and answer.json()["written"]
    assert officer.get("/api/v1/openings/requests", {"status": "rejected"}).json()["count"] == 1


def test_a_row_the_registry_refuses_when_written_rolls_the_whole_file_back(
    head_a, officer_a, make_person, guardian_input
):
    from ansinh.registry import services as registry_services

    p = make_person("Lê Thị Bé", rep=guardian_input)
    other = make_person("Nguyễn Thị Ánh")
    link = p.representations.get()
    reqs = [
        services.request_opening(actor=head_a, beneficiary=other),
        services.request_opening(actor=head_a, beneficiary=p, representation=link),
    ]
    services.confirm_requests(actor=officer_a, requests=reqs)
    batch = services.export_batch(actor=officer_a, commune=p.commune)
    registry_services.end_representation(actor=officer_a, representation=link)  # since the export
    content = results_xlsx(
        [
            {
                "code": reqs[0].code,
                "holder_name": "NGUYEN THI ANH",
                "result": "Đã mở",
                "number": "123456789012",
                "opened_on": date.today(),
            },
            {
                "code": reqs[1].code,
                "holder_name": "TRAN VAN BINH",
                "result": "Đã mở",
                "number": "123456789013",
                "opened_on": date.today(),
            },
        ]
    )
    outcome = services.import_results(actor=officer_a, content=content, file_name="r.xlsx", batch=batch)
    assert not outcome.ok and outcome.errors[0]["row"] > 0
    assert not ReceivingAccount.objects.exists() and not OpeningResultImport.objects.exists()
    assert set(OpeningRequest.objects.values_list("status", flat=True)) == {RequestStatus.EXPORTED}


def test_the_list_reads_a_bounded_number_of_queries(head_a, officer_a, make_person, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(officer_a)

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("openings:requests")).status_code == 200
        return len(ctx.captured_queries)

    (req,), batch = _exported(head_a, officer_a, [make_person("Nguyễn Thị Ánh")])
    services.import_results(
        actor=officer_a,
        content=results_xlsx(
            [
                {
                    "code": req.code,
                    "holder_name": "NGUYEN THI ANH",
                    "result": "Đã mở",
                    "number": "123456789012",
                    "opened_on": date.today(),
                }
            ]
        ),
        file_name="r.xlsx",
        batch=batch,
    )
    one = queries_for_list()
    for name in ("Lê Thị Bé", "Trần Thị Cúc", "Phạm Thị Dung", "Hồ Thị Em"):
        services.request_opening(actor=head_a, beneficiary=make_person(name))
    assert queries_for_list() == one


def test_the_default_opening_bank_is_the_demo_bank(settings, monkeypatch):
    """The seed and the demo pay through Nam A Bank: a deployment that sets nothing opens there."""
    import importlib  # noqa: PLC0415

    from ansinh import settings as project_settings  # noqa: PLC0415

    monkeypatch.delenv("ANSINH_OPENINGS_INSTITUTION", raising=False)
    assert importlib.reload(project_settings).ANSINH_OPENINGS_INSTITUTION == "NAB"
    del settings.ANSINH_OPENINGS_INSTITUTION
    assert services.default_institution().code == "NAB"


def test_the_results_import_registers_its_accounts_in_one_bulk_call(head_a, officer_a, make_person, monkeypatch):
    people = [make_person(name) for name in ("Nguyễn Thị Ánh", "Lê Văn Bình", "Trần Thị Cúc")]
    reqs, batch = _exported(head_a, officer_a, people, switch=False)
    calls = []
    bulk = payment_services.register_accounts

    def spy(**kwargs):
        calls.append(len(kwargs["accounts"]))
        return bulk(**kwargs)

    def one_by_one(**kwargs):
        raise AssertionError("the import registers its accounts in bulk")

    monkeypatch.setattr(payment_services, "register_accounts", spy)
    monkeypatch.setattr(payment_services, "register_account", one_by_one)
    today = timezone.localdate().strftime("%d/%m/%Y")
    content = results_xlsx(
        [
            {
                "code": r.code,
                "holder_name": p.full_name,
                "result": "Đã mở",
                "number": f"12345678900{i}",
                "opened_on": today,
            }
            for i, (r, p) in enumerate(zip(reqs, people, strict=True))
        ]
    )
    outcome = services.import_results(actor=officer_a, content=content, file_name="kq.xlsx", batch=batch)
    assert outcome.ok, outcome.errors
    assert outcome.opened == 3 and calls == [3]
    assert sorted(crypto.decrypt(a.number_encrypted) for a in ReceivingAccount.objects.all()) == [
        "123456789000",
        "123456789001",
        "123456789002",
    ]
