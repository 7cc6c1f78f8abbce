"""The recording pages, the field page's JSON endpoints and the API (receipts with an
Idempotency-Key, withdrawals, closing, follow-ups)."""

from __future__ import annotations

import json
import uuid

from django.urls import reverse

from ansinh.cashout.models import CashReceipt, EntryState, Withdrawal
from ansinh.disbursement.models import Payout
from ansinh.web import audit_text
from tests.cashout.conftest import ACCOUNT_PERSON, HOME_PEOPLE, PAY_POINT_PEOPLE
from tests.cashout.receipt_fixtures import add_representative, entry_of, give_cccd, lists_fixture, places_fixture  # noqa: F401
from tests.cashout.test_withdrawals import credited_fixture  # noqa: F401


def test_field_page_data_and_json_endpoint(lists, provider_a, client_for, viewer_a):
    home = lists["home"]
    entry = entry_of(home, HOME_PEOPLE[0])
    link = add_representative(entry.beneficiary)
    give_cccd(entry.beneficiary, "200002")
    c = client_for(provider_a)
    page = c.get(reverse("cashout:field_page", args=[home.pk]))
    assert page.status_code == 200 and b"cash-field.js" in page.content
    sw = c.get(reverse("cashout:field_sw"))
    assert sw.status_code == 200 and sw["Service-Worker-Allowed"] == "/cash/field/"
    data = c.get(reverse("cashout:field_data", args=[home.pk])).json()
    row = next(e for e in data["entries"] if e["id"] == entry.pk)
    assert row["cccd"].startswith("*") and row["cccd"][-4:] == entry.beneficiary.cccd[-4:]
    assert row["representatives"] == [
        {"id": link.pk, "name": "Lê Văn Đại Diện", "cccd": "********" + link.representative.cccd[-4:]}
    ]
    assert set(row) == {"id", "position", "name", "amount", "village", "payee", "cccd", "representatives", "state"}
    assert entry.beneficiary.cccd not in json.dumps(data)
    k = str(uuid.uuid4())
    body = {
        "outcome": "paid",
        "receiver_kind": "representative",
        "representation_id": link.pk,
        "receiver_cccd": link.representative.cccd[-4:],
    }
    url = reverse("cashout:field_receipt", args=[entry.pk])
    first = c.post(url, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    again = c.post(url, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert CashReceipt.objects.count() == 1
    wrong = c.post(
        url,
        json.dumps(body | {"receiver_cccd": "0000"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert wrong.status_code == 409  # already paid: a conflict before any check
    other = entry_of(home, HOME_PEOPLE[1])
    give_cccd(other.beneficiary, "300003")
    refused = c.post(
        reverse("cashout:field_receipt", args=[other.pk]),
        json.dumps(body | {"receiver_kind": "beneficiary", "receiver_cccd": "0000"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert refused.status_code == 422 and refused.json()["message"]
    # a reader may not record
    r = client_for(viewer_a).post(url, "{}", content_type="application/json")
    assert r.status_code == 403


def test_plain_form_and_receipts_page_and_closing(lists, provider_a, preparer_a, client_for):
    point = lists["pay_point"]
    entry = entry_of(point, PAY_POINT_PEOPLE[1])
    c = client_for(provider_a)
    form = c.get(reverse("cashout:receipt_form", args=[entry.pk]))
    assert form.status_code == 200
    r = c.post(
        reverse("cashout:receipt_form", args=[entry.pk]),
        {"outcome": "paid", "receiver": "beneficiary", "note": "Giấy xác nhận", "key": uuid.uuid4().hex},
    )
    assert r.status_code == 302
    entry.refresh_from_db()
    assert entry.state == EntryState.PAID and Payout.objects.count() >= 1
    page = c.get(reverse("cashout:list_receipts", args=[point.pk]))
    assert page.status_code == 200 and entry.beneficiary.full_name in page.content.decode()
    closed = client_for(preparer_a).post(reverse("cashout:close_list", args=[point.pk]))
    assert closed.status_code == 302
    point.refresh_from_db()
    assert point.state == "closed"


def test_api_receipts_idempotency_and_close(lists, provider_a, preparer_a, api_client_for):
    api = api_client_for(provider_a)
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    url = f"/api/v1/cash/entries/{entry.pk}/receipts"
    body = json.dumps({"outcome": "paid", "receiver_kind": "beneficiary", "note": "Giấy xác nhận"})
    k = str(uuid.uuid4())
    a = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    b = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    c = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    d = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert c.status_code == 409 and c.json()["result"] == "already_paid" and d.status_code == 409
    assert api.post(url, body, content_type="application/json").status_code == 422  # no key
    listed = api.get(f"/api/v1/cash/lists/{lists['pay_point'].pk}/receipts").json()
    assert listed["count"] == 3
    closed = api_client_for(preparer_a).post(f"/api/v1/cash/lists/{lists['pay_point'].pk}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["returned"] == 2


def test_api_withdrawals_and_follow_ups(credited, places, provider_a, officer_a, api_client_for, people):
    holder, _instruction = credited
    api = api_client_for(provider_a)
    url = f"/api/v1/cash/pay-points/{places[0].pk}/withdrawals"
    body = json.dumps({"beneficiary_id": holder.pk, "outcome": "cannot", "reason": "no_card"})
    k = str(uuid.uuid4())
    a = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    b = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert a.json()["cash_entry_id"] and a.json()["follow_up_id"] and Withdrawal.objects.count() == 1
    assert api.get("/api/v1/cash/withdrawals").json()["count"] == 1
    officer = api_client_for(officer_a)
    ups = officer.get("/api/v1/cash/follow-ups").json()
    assert ups["count"] == 1 and ups["items"][0]["beneficiary"] == ACCOUNT_PERSON
    fid = ups["items"][0]["id"]
    assert (
        api.post(
            f"/api/v1/cash/follow-ups/{fid}/close", json.dumps({"note": "x"}), content_type="application/json"
        ).status_code
        == 403
    )
    done = officer.post(
        f"/api/v1/cash/follow-ups/{fid}/close", json.dumps({"note": "Đã cấp lại thẻ"}), content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["closed_at"]


def test_audit_sentences_of_recording(lists, provider_a):
    from ansinh.audit.models import AuditEvent
    from ansinh.cashout import receipts

    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    receipts.record_cash_receipt(
        actor=provider_a,
        entry_id=entry.pk,
        idempotency_key=str(uuid.uuid4()),
        outcome="not_paid",
        reason="absent",
        occurred_at=entry.updated_at,
    )
    event = AuditEvent.objects.get(action="cashout.receipt.recorded")
    assert audit_text.renderer_for(event.action) is not audit_text._fallback
    (line,) = audit_text.render([event], provider_a)
    assert entry.beneficiary.full_name in line.text


def test_recording_pages_read_as_vietnamese(credited, lists, provider_a, officer_a, client_for):
    """The pages (and the texts the field page's script shows) hold no English and no raw code."""
    from django.utils import translation

    from ansinh.cashout import receipts, withdrawals
    from ansinh.web.views.cashout_field import _texts
    from tests.web.test_vietnamese_everywhere import choice_values, english_msgids, findings, visible_text

    holder, _instruction = credited
    point = lists["pay_point"]
    paid, absent = entry_of(point, PAY_POINT_PEOPLE[1]), entry_of(point, PAY_POINT_PEOPLE[2])
    for entry, kw in (
        (paid, {"outcome": "paid", "receiver_kind": "beneficiary", "note": "Giấy"}),
        (absent, {"outcome": "not_paid", "reason": "moved"}),
    ):
        receipts.record_cash_receipt(
            actor=provider_a, entry_id=entry.pk, idempotency_key=str(uuid.uuid4()), occurred_at=entry.updated_at, **kw
        )
    withdrawals.record_withdrawal(
        actor=provider_a,
        pay_point=point.pay_point,
        beneficiary=holder,
        idempotency_key=str(uuid.uuid4()),
        outcome="cannot",
        reason="forgot_pin",
        occurred_at=None,
    )
    choices, msgids = choice_values(), english_msgids()
    pages = {
        provider_a: [
            reverse("cashout:field"),
            reverse("cashout:field_page", args=[point.pk]),
            reverse("cashout:list_receipts", args=[point.pk]),
            reverse("cashout:receipt_form", args=[entry_of(point, PAY_POINT_PEOPLE[0]).pk]),
            reverse("cashout:withdrawals", args=[point.pay_point_id]),
        ],
        officer_a: [reverse("cashout:follow_ups"), reverse("cashout:list_receipts", args=[point.pk])],
    }
    problems = []
    for user, urls in pages.items():
        c = client_for(user)
        for url in urls:
            r = c.get(url)
            assert r.status_code == 200, url
            problems += [
                f"{url}: {p}" for p in findings(visible_text(r.content.decode()), choices=choices, msgids=msgids)
            ]
    with translation.override("vi"):
        texts = _texts()
    values = [v for v in texts.values() if isinstance(v, str)]
    values += [v for d in texts.values() if isinstance(d, dict) for v in d.values()]
    script_texts = "\n".join(str(v) for v in values)
    problems += [f"field texts: {p}" for p in findings(script_texts, choices=set(), msgids=msgids)]

    # the users' own names (test users are called "Provider A") and "SMS" (the same word in Vietnamese)
    problems = [p for p in problems if not any(w in p for w in ("provider_a", "officer_a", "'Provider'", "'SMS'"))]
    assert problems == [], "\n".join(problems)
