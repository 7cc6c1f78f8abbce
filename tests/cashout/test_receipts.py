"""Recording cash payments (ansinh.cashout.receipts): the receiver and their CCCD checked, one
payout per payroll line, idempotency by the device's key, conflicts kept and shown, not paid then
paid, photos, access."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansinh.audit.models import AuditEvent
from ansinh.cashout import receipts
from ansinh.cashout.models import CashEntry, CashEntryLine, CashReceipt, EntryState, ReceiptResult
from ansinh.disbursement.models import Payout
from ansinh.registry.models import Status, StatusChange
from tests.cashout.conftest import HOME_PEOPLE, PAY_POINT_PEOPLE
from tests.cashout.receipt_fixtures import add_representative, entry_of, give_cccd, lists_fixture, places_fixture  # noqa: F401
from tests.conftest import make_user

NOW = timezone.now


def key() -> str:
    return str(uuid.uuid4())


def pay(actor, entry, k=None, **kw):
    kw.setdefault("receiver_kind", "beneficiary")
    return receipts.record_cash_receipt(
        actor=actor, entry_id=entry.pk, idempotency_key=k or key(), outcome="paid", occurred_at=NOW(), **kw
    )


def lines_total(entry) -> int:
    return sum(CashEntryLine.objects.filter(entry=entry).values_list("line__amount", flat=True))


def test_paid_to_the_beneficiary_with_the_last_four_digits(lists, provider_a):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[0])
    cccd = give_cccd(entry.beneficiary, "100001")
    receipt = pay(provider_a, entry, receiver_cccd=cccd[-4:])
    entry.refresh_from_db()
    assert receipt.result == ReceiptResult.RECORDED and receipt.cccd_checked
    assert receipt.receiver_name == entry.beneficiary.full_name
    assert entry.state == EntryState.PAID
    payouts = Payout.objects.filter(line__cash_entry_lines__entry=entry)
    assert payouts.count() == CashEntryLine.objects.filter(entry=entry).count() >= 1
    assert {p.channel for p in payouts} == {"cash"}
    assert payouts.aggregate(s=Sum("amount"))["s"] == entry.amount == lines_total(entry)
    assert receipt.answer["result"] == "recorded" and receipt.answer["payouts"] == payouts.count()
    assert AuditEvent.objects.filter(action="cashout.receipt.recorded", object_id=str(receipt.pk)).count() == 1
    assert receipts.status_code(receipt) == 201


def test_a_wrong_cccd_is_refused_and_nothing_is_written(lists, provider_a):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[0])
    give_cccd(entry.beneficiary, "100001")
    for wrong in ("9999", "089040999999", "12345"):
        with pytest.raises(ValidationError) as err:
            pay(provider_a, entry, receiver_cccd=wrong)
        assert "receiver_cccd" in err.value.message_dict
    with pytest.raises(ValidationError):
        pay(provider_a, entry, receiver_cccd="")
    entry.refresh_from_db()
    assert entry.state == EntryState.PENDING
    assert not CashReceipt.objects.exists() and not Payout.objects.exists()


def test_no_cccd_on_record_needs_a_note_and_is_not_checked(lists, provider_a):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    assert entry.beneficiary.cccd == ""
    with pytest.raises(ValidationError) as err:
        pay(provider_a, entry)
    assert "note" in err.value.message_dict
    receipt = pay(provider_a, entry, note="Xem giấy xác nhận của công an xã")
    assert receipt.result == ReceiptResult.RECORDED and not receipt.cccd_checked


def test_paid_to_a_listed_representative_only(lists, provider_a):
    entry = entry_of(lists["home"], HOME_PEOPLE[0])
    link = add_representative(entry.beneficiary)
    ended = add_representative(entry.beneficiary, name="Người Đã Thôi", tail="888888")
    ended.ended_at = NOW()
    ended.save(update_fields=["ended_at"])
    with pytest.raises(ValidationError) as err:
        pay(provider_a, entry, receiver_kind="representative", representation_id=ended.pk, receiver_cccd="8888")
    assert "representation_id" in err.value.message_dict
    with pytest.raises(ValidationError):
        pay(provider_a, entry, receiver_kind="representative", representation_id=link.pk, receiver_cccd="1234")
    rep_cccd = link.representative.cccd
    receipt = pay(provider_a, entry, receiver_kind="representative", representation_id=link.pk, receiver_cccd=rep_cccd)
    assert receipt.representation == link and receipt.receiver_name == "Lê Văn Đại Diện" and receipt.cccd_checked


def test_the_same_key_records_once_and_answers_the_same(lists, provider_a):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    k = key()
    first = pay(provider_a, entry, k=k, note="Giấy xác nhận")
    events = AuditEvent.objects.count()
    again = pay(provider_a, entry, k=k, note="Giấy xác nhận")
    assert again.pk == first.pk and again.answer == first.answer
    assert CashReceipt.objects.count() == 1 and AuditEvent.objects.count() == events
    assert Payout.objects.count() == CashEntryLine.objects.filter(entry=entry).count()
    other = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[2])
    with pytest.raises(ValidationError) as err:
        pay(provider_a, other, k=k, note="x")
    assert "idempotency_key" in err.value.message_dict


def test_conflicts_are_kept_and_change_nothing(lists, provider_a):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    pay(provider_a, entry, note="Giấy xác nhận")
    payouts = Payout.objects.count()
    twice = pay(provider_a, entry, note="Giấy xác nhận")
    assert twice.result == ReceiptResult.ALREADY_PAID and receipts.status_code(twice) == 409
    assert "already paid" not in receipts.answer_of(twice)["message"]  # Vietnamese
    assert Payout.objects.count() == payouts
    # stopped since the list was made, from the list's month (a death before it, reported late)
    stopped = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[2])
    b = stopped.beneficiary
    b.status, b.stop_reason, b.death_date = Status.STOPPED, "died", NOW().date()
    b.save(update_fields=["status", "stop_reason", "death_date"])
    StatusChange.objects.create(
        beneficiary=b, from_status="active", to_status="stopped", reason="died", effective_month=stopped.cycle.month
    )
    conflict = pay(provider_a, stopped, note="x")
    stopped.refresh_from_db()
    assert conflict.result == ReceiptResult.STOPPED and stopped.state == EntryState.PENDING
    assert Payout.objects.count() == payouts
    assert AuditEvent.objects.filter(action="cashout.receipt.conflict").count() == 2


def test_not_paid_then_paid_while_the_list_is_open(lists, provider_a):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    with pytest.raises(ValidationError):
        receipts.record_cash_receipt(
            actor=provider_a, entry_id=entry.pk, idempotency_key=key(), outcome="not_paid", occurred_at=NOW()
        )
    absent = receipts.record_cash_receipt(
        actor=provider_a,
        entry_id=entry.pk,
        idempotency_key=key(),
        outcome="not_paid",
        reason="absent",
        occurred_at=NOW() - timedelta(days=1),
    )
    entry.refresh_from_db()
    assert absent.result == ReceiptResult.RECORDED
    assert (entry.state, entry.not_paid_reason) == (EntryState.NOT_PAID, "absent")
    assert not Payout.objects.exists()
    pay(provider_a, entry, note="Giấy xác nhận")
    entry.refresh_from_db()
    assert entry.state == EntryState.PAID and entry.not_paid_reason == ""


def test_photo_must_be_a_small_image(lists, provider_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    with pytest.raises(ValidationError) as err:
        pay(provider_a, entry, note="x", photo=SimpleUploadedFile("a.jpg", b"%PDF-1.4 not an image"))
    assert "photo" in err.value.message_dict
    big = SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024))
    with pytest.raises(ValidationError):
        pay(provider_a, entry, note="x", photo=big)
    ok = pay(provider_a, entry, note="x", photo=SimpleUploadedFile("c.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "))
    assert ok.photo.name.startswith("cash-receipts/")


def test_access_reader_forbidden_other_commune_not_found(lists, viewer_a, officer_b, officer_a):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    with pytest.raises(receipts.CashForbidden):
        pay(viewer_a, entry, note="x")
    with pytest.raises(receipts.CashForbidden):
        pay(officer_a, entry, note="x")  # the commune officer manages lists, the provider records
    with pytest.raises(CashEntry.DoesNotExist):
        pay(officer_b, entry, note="x")
    from ansinh.accounts.roles import Role

    staff_b = make_user(
        "provider_b", Role.PROVIDER_STAFF, entry.commune.parent.children.exclude(pk=entry.commune_id)[0]
    )
    with pytest.raises(CashEntry.DoesNotExist):
        pay(staff_b, entry, note="x")
    assert not CashReceipt.objects.exists()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 5), st.sampled_from(["paid", "not_paid"])), min_size=1, max_size=14
    )
)
def test_any_sequence_pays_each_line_at_most_once(lists, provider_a, steps):
    """Whatever is sent, in any order, with keys repeated: at most one payout per line and the
    payouts add up to the lines of the paid entries."""
    with transaction.atomic():
        entries = list(CashEntry.objects.filter(cycle=lists["pay_point"].cycle).order_by("pk"))
        keys = [f"hyp-key-{i:04d}" for i in range(6)]
        used: dict[str, int] = {}
        for entry_index, key_index, outcome in steps:
            entry = entries[entry_index % len(entries)]
            k = keys[key_index]
            kw = {"note": "x", "receiver_kind": "beneficiary"} if outcome == "paid" else {"reason": "absent"}
            try:
                receipts.record_cash_receipt(
                    actor=provider_a, entry_id=entry.pk, idempotency_key=k, outcome=outcome, occurred_at=NOW(), **kw
                )
                used.setdefault(k, entry.pk)
            except ValidationError:
                assert used.get(k) not in (None, entry.pk)  # only a key reused for another entry
        assert CashReceipt.objects.count() == len(used)
        paid = CashEntry.objects.filter(pk__in=[e.pk for e in entries], state=EntryState.PAID)
        lines = CashEntryLine.objects.filter(entry__in=paid)
        assert Payout.objects.count() == lines.count()
        assert (Payout.objects.aggregate(s=Sum("amount"))["s"] or 0) == (
            lines.aggregate(s=Sum("line__amount"))["s"] or 0
        )
        assert CashReceipt.objects.filter(outcome="paid", result="recorded").count() == paid.count()
        transaction.set_rollback(True)


def test_the_month_of_death_is_still_paid_in_cash(lists, provider_a):
    """A death in the list's month stops the allowance from the month after: this month's cash
    is still paid (to the representative or the family, checked like any receiver)."""
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[2])
    b = entry.beneficiary
    b.status, b.stop_reason, b.death_date = Status.STOPPED, "died", entry.cycle.month
    b.save(update_fields=["status", "stop_reason", "death_date"])
    next_month = (entry.cycle.month.replace(day=28) + timedelta(days=4)).replace(day=1)
    StatusChange.objects.create(
        beneficiary=b, from_status="active", to_status="stopped", reason="died", effective_month=next_month
    )
    receipt = pay(provider_a, entry, note="Giấy tờ của gia đình")
    entry.refresh_from_db()
    assert receipt.result == ReceiptResult.RECORDED and entry.state == EntryState.PAID
    assert Payout.objects.filter(line__cash_entry_lines__entry=entry).count() >= 1


# --- a whole paper list at once (receipts.record_receipts_bulk) -------------------------------------


def item(entry, k=None, outcome="paid", **kw) -> receipts.ReceiptItem:
    if outcome == "paid":
        kw.setdefault("receiver_kind", "beneficiary")
    return receipts.ReceiptItem(
        entry_id=entry.pk, idempotency_key=k or key(), outcome=outcome, occurred_at=NOW() - timedelta(hours=2), **kw
    )


def test_bulk_records_a_paper_list_with_the_rules_of_one_receipt(lists, provider_a):
    """The right ones recorded (payouts per line, one audit event each), a wrong CCCD or a
    representative not listed refused for that item only, an entry already paid kept as a
    conflict; the same list again writes nothing."""
    point, home = lists["pay_point"], lists["home"]
    p0, p1, p2 = (entry_of(point, name) for name in PAY_POINT_PEOPLE)
    h0, h1 = (entry_of(home, name) for name in HOME_PEOPLE)
    cccd = give_cccd(p0.beneficiary, "100001")
    give_cccd(h1.beneficiary, "100002")
    give_cccd(p2.beneficiary, "100003")
    ended = add_representative(h0.beneficiary, name="Người Đã Thôi", tail="888888")
    ended.ended_at = NOW()
    ended.save(update_fields=["ended_at"])
    pay(provider_a, p2, receiver_cccd=p2.beneficiary.cccd[-4:])
    events, payouts = AuditEvent.objects.count(), Payout.objects.count()
    paper = [
        item(p0, receiver_cccd=cccd[-4:]),
        item(p1),  # no CCCD on record and no note
        item(h0, receiver_kind="representative", representation_id=ended.pk, receiver_cccd="8888"),
        item(h1, receiver_cccd="9999"),  # not the digits on record
        item(p2, receiver_cccd="0003"),  # already paid
        item(p1, outcome="not_paid", reason="absent", note="Vắng nhà"),
    ]
    result = receipts.record_receipts_bulk(actor=provider_a, items=paper)

    assert {i: sorted(e.message_dict) for i, e in result.errors.items()} == {
        1: ["note"],
        2: ["representation_id"],
        3: ["receiver_cccd"],
    }
    assert result.receipts[1] is result.receipts[2] is result.receipts[3] is None
    assert not CashReceipt.objects.filter(entry__in=[h0, h1]).exists()
    assert [r.result for r in result.recorded] == ["recorded", "recorded"]
    assert [r.result for r in result.conflicts] == [ReceiptResult.ALREADY_PAID]
    assert result.receipts[4].result == ReceiptResult.ALREADY_PAID and receipts.status_code(result.receipts[4]) == 409
    paid = result.receipts[0]
    assert paid.cccd_checked and paid.receiver_name == p0.beneficiary.full_name
    for e in (p0, p1, h0, h1):
        e.refresh_from_db()
    assert (p0.state, p1.state, p1.not_paid_reason) == (EntryState.PAID, EntryState.NOT_PAID, "absent")
    assert h0.state == h1.state == EntryState.PENDING
    p0_payouts = Payout.objects.filter(line__cash_entry_lines__entry=p0)
    assert p0_payouts.count() == CashEntryLine.objects.filter(entry=p0).count() == paid.answer["payouts"] >= 1
    assert p0_payouts.aggregate(s=Sum("amount"))["s"] == p0.amount == lines_total(p0)
    assert Payout.objects.count() == payouts + p0_payouts.count()
    assert paid.answer == {
        "receipt_id": paid.pk,
        "entry_id": p0.pk,
        "result": "recorded",
        "outcome": "paid",
        "entry_state": "paid",
        "amount": p0.amount,
        "payouts": p0_payouts.count(),
        "cccd_checked": True,
    }
    assert AuditEvent.objects.count() == events + 3
    assert AuditEvent.objects.filter(action="cashout.receipt.recorded", object_id=str(paid.pk)).count() == 1

    # the same list again (the same keys): nothing new; the refused ones are refused again
    receipts_before, events = CashReceipt.objects.count(), AuditEvent.objects.count()
    again = receipts.record_receipts_bulk(actor=provider_a, items=paper)
    assert again.known == [0, 4, 5] and sorted(again.errors) == [1, 2, 3]
    assert [r.pk for r in again.receipts if r] == [r.pk for r in result.receipts if r]
    assert CashReceipt.objects.count() == receipts_before and AuditEvent.objects.count() == events
    assert not again.recorded and not again.conflicts
    # a key already used for another person is refused
    other = receipts.record_receipts_bulk(actor=provider_a, items=[item(h1, k=paper[0].idempotency_key)])
    assert "idempotency_key" in other.errors[0].message_dict


def test_bulk_needs_the_recording_right_on_every_entry(lists, provider_a, viewer_a, officer_b):
    entry = entry_of(lists["pay_point"], PAY_POINT_PEOPLE[1])
    paper = [item(entry, note="Giấy xác nhận")]
    with pytest.raises(receipts.CashForbidden):
        receipts.record_receipts_bulk(actor=viewer_a, items=paper)
    with pytest.raises(CashEntry.DoesNotExist):
        receipts.record_receipts_bulk(actor=officer_b, items=paper)
    with pytest.raises(CashEntry.DoesNotExist):  # one unknown entry: nothing is written
        receipts.record_receipts_bulk(actor=provider_a, items=[*paper, replace(paper[0], entry_id=0)])
    assert (
        not CashReceipt.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="cashout.receipt").exists()
    )


RECEIVERS = ("last4", "full", "wrong", "none", "rep", "rep_wrong", "rep_other")


def _snapshot(entries, result: list) -> dict:
    """What was written (ids apart) and what each item got."""
    receipts_rows = sorted(
        CashReceipt.objects.filter(entry__in=entries).values_list(
            "entry_id", "idempotency_key", "outcome", "reason", "note", "receiver_kind", "representation_id",
            "receiver_name", "cccd_checked", "result", "device", "occurred_at",
        )
    )  # fmt: skip
    answers = sorted(
        sorted((k, str(v)) for k, v in a.items() if k != "receipt_id")
        for a in CashReceipt.objects.filter(entry__in=entries).values_list("answer", flat=True)
    )
    events = sorted(
        (action, sorted((k, str(v)) for k, v in (after or {}).items()))
        for action, after in AuditEvent.objects.filter(action__startswith="cashout.receipt.").values_list(
            "action", "after"
        )
    )
    return {
        "receipts": receipts_rows,
        "answers": answers,
        "events": events,
        "entries": sorted(
            CashEntry.objects.filter(pk__in=[e.pk for e in entries]).values_list("pk", "state", "not_paid_reason")
        ),
        "payouts": sorted(Payout.objects.values_list("line_id", "channel", "amount", "paid_at")),
        "items": result,
    }  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),  # entry
            st.integers(0, 7),  # key
            st.sampled_from(["paid", "paid", "not_paid"]),
            st.sampled_from(RECEIVERS),
            st.booleans(),  # a note
            st.sampled_from(["absent", "absent", "refused", ""]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_bulk_and_one_by_one_record_the_same(lists, provider_a, steps):
    """For any list (keys and entries repeated, wrong CCCDs, representatives not listed, a stop
    since the list was made), the bulk service writes what the single one writes, item by item,
    and answers each item alike (the same receipt, or the same refusal)."""
    with transaction.atomic():
        entries = [entry_of(lists["pay_point"], n) for n in PAY_POINT_PEOPLE] + [
            entry_of(lists["home"], n) for n in HOME_PEOPLE
        ]
        for i, e in enumerate(entries[:4]):
            if i != 1:
                give_cccd(e.beneficiary, f"20000{i}")
        reps = [add_representative(entries[3].beneficiary), add_representative(entries[4].beneficiary, cccd=False)]
        StatusChange.objects.create(  # the third person suspended since the list was made
            beneficiary=entries[2].beneficiary,
            from_status="active",
            to_status="suspended",
            reason="moved",
            effective_month=entries[2].cycle.month,
        )
        when = NOW() - timedelta(hours=3)
        items = []
        for entry_index, key_index, outcome, receiver, with_note, reason in steps:
            e = entries[entry_index]
            kw: dict = {"note": "Giấy xác nhận" if with_note else ""}
            if outcome == "not_paid":
                kw["reason"] = reason
            else:
                on_record = e.beneficiary.cccd
                rep = reps[0] if entry_index == 3 else reps[1]
                kw |= {
                    "last4": {"receiver_kind": "beneficiary", "receiver_cccd": on_record[-4:]},
                    "full": {"receiver_kind": "beneficiary", "receiver_cccd": on_record},
                    "wrong": {"receiver_kind": "beneficiary", "receiver_cccd": "0000"},
                    "none": {"receiver_kind": "beneficiary"},
                    "rep": {"receiver_kind": "representative", "representation_id": rep.pk,
                            "receiver_cccd": rep.representative.cccd[-4:]},
                    "rep_wrong": {"receiver_kind": "representative", "representation_id": rep.pk,
                                  "receiver_cccd": "1111"},
                    "rep_other": {"receiver_kind": "representative", "representation_id": reps[0].pk,
                                  "receiver_cccd": reps[0].representative.cccd},
                }[receiver]  # fmt: skip
            items.append(
                receipts.ReceiptItem(
                    entry_id=e.pk, idempotency_key=f"paper-{key_index:04d}", outcome=outcome, occurred_at=when, **kw
                )
            )

        with transaction.atomic():
            single: list = []
            for it in items:
                try:
                    r = receipts.record_cash_receipt(actor=provider_a, **{f: getattr(it, f) for f in it.__slots__})
                    single.append((r.entry_id, r.idempotency_key, r.result))
                except ValidationError as exc:
                    single.append(sorted(exc.message_dict))
            one_by_one = _snapshot(entries, single)
            transaction.set_rollback(True)

        with transaction.atomic():
            result = receipts.record_receipts_bulk(actor=provider_a, items=items)
            answers = [
                sorted(result.errors[i].message_dict)
                if i in result.errors
                else (r.entry_id, r.idempotency_key, r.result)
                for i, r in enumerate(result.receipts)
            ]
            assert _snapshot(entries, answers) == one_by_one
            # what was recorded: payouts for exactly the lines of the entries paid
            paid = CashEntry.objects.filter(pk__in=[e.pk for e in entries], state=EntryState.PAID)
            assert Payout.objects.count() == CashEntryLine.objects.filter(entry__in=paid).count()
            transaction.set_rollback(True)
        transaction.set_rollback(True)
