"""The job rows of a status import (statuses._write_rows, _classify_and_book): a row that repeats
an earlier row's end-to-end id changes nothing, and a file that turns out invalid after many
statuses records nothing (on PostgreSQL the rows go in by one COPY that is then abandoned)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from ansinh.disbursement import batches, statuses
from ansinh.disbursement.formats import FormatError, pain002
from ansinh.disbursement.models import (
    ImportSource,
    Instruction,
    InstructionState,
    Payout,
    ProviderBatch,
    RowOutcome,
    StatusImport,
    StatusImportRow,
)

I = InstructionState  # noqa: E741


def _report(batch: ProviderBatch, rows: list[pain002.TxStatus]) -> bytes:
    out = io.BytesIO()
    group = pain002.GroupStatus(
        message_id="BANK-ROWS-1",
        created_at=datetime(2026, 3, 5, 8, 0, tzinfo=UTC),
        original_message_id=batch.message_id,
        original_name="pain.001.001.09",
        original_count=batch.instructions_count,
        original_total=batch.total_amount,
        group_status="PART",
    )
    pain002.write(out, group, rows)
    return out.getvalue()


@pytest.fixture
def sent(funded, preparer_a):
    batches.build_batches(actor=preparer_a, cycle=funded)
    batch = ProviderBatch.objects.get(cycle=funded)
    batches.write_file(actor=preparer_a, batch=batch, file_format="pain.001", out=io.BytesIO())
    batch.refresh_from_db()
    return batch


def test_a_repeated_row_changes_nothing(sent, preparer_a):
    first, second, *_ = Instruction.objects.filter(batch=sent).order_by("pk")
    rows = [
        pain002.TxStatus(first.end_to_end_id, "ACSC", amount=first.amount),
        pain002.TxStatus("ANS-999999-1", "ACSC", amount=1),
        pain002.TxStatus(second.end_to_end_id, "RJCT", "AC04", amount=second.amount),
        pain002.TxStatus(first.end_to_end_id, "ACSC", amount=first.amount),  # repeated
        pain002.TxStatus(first.end_to_end_id, "RJCT", "AC01", amount=first.amount),  # repeated, another status
        pain002.TxStatus("ANS-999999-1", "ACSC", amount=1),  # an unknown id twice: unknown twice
    ]
    job = statuses.import_status(actor=preparer_a, content=_report(sent, rows), source=ImportSource.PAIN002)
    outcomes = list(StatusImportRow.objects.filter(job=job).order_by("row_number").values_list("outcome", flat=True))
    assert outcomes == [
        RowOutcome.APPLIED,
        RowOutcome.UNKNOWN,
        RowOutcome.APPLIED,
        RowOutcome.UNCHANGED,
        RowOutcome.UNCHANGED,
        RowOutcome.UNKNOWN,
    ]
    linked = StatusImportRow.objects.filter(job=job, end_to_end_id=first.end_to_end_id)
    assert set(linked.values_list("instruction_id", flat=True)) == {first.pk}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state, second.reason_code) == (I.CREDITED, I.REJECTED, "AC04")
    assert second.reason == pain002.reason_text("AC04") and not first.reason
    assert Payout.objects.filter(instruction=first).count() == 1
    assert job.summary["rows"] == 6 and job.summary["unknown_ids"] == ["ANS-999999-1", "ANS-999999-1"]


def test_a_file_invalid_after_many_statuses_records_nothing(sent, preparer_a):
    many = [pain002.TxStatus(f"ANS-{900000 + n}-1", "ACSC", amount=1) for n in range(3000)]  # over 64 KiB
    content = _report(sent, [*many, pain002.TxStatus("ANS-1-1", "ACSC", amount=1)])
    broken = content.replace(b"<OrgnlEndToEndId>ANS-1-1</OrgnlEndToEndId>", b"<Unexpected>ANS-1-1</Unexpected>")
    assert broken != content
    with pytest.raises(FormatError):
        statuses.import_status(actor=preparer_a, content=broken, source=ImportSource.PAIN002)
    assert not StatusImport.objects.exists() and not StatusImportRow.objects.exists()
    assert set(Instruction.objects.filter(batch=sent).values_list("state", flat=True)) == {I.SENT}


def _variant(sent: ProviderBatch, kind: str) -> bytes:
    ours = [
        pain002.TxStatus(i.end_to_end_id, "ACSC", amount=i.amount)
        for i in Instruction.objects.filter(batch=sent).order_by("pk")
    ]
    many = [pain002.TxStatus(f"ANS-{900000 + n}-1", "ACSC", amount=1) for n in range(3000)]  # over 64 KiB
    content = _report(sent, [*many, *ours])
    first = ours[0].end_to_end_id.encode()
    if kind == "schema late":
        content = content.replace(b"<OrgnlEndToEndId>" + first, b"<Unexpected>" + first, 1).replace(
            first + b"</OrgnlEndToEndId>", first + b"</Unexpected>", 1
        )
    elif kind == "schema early":  # in the group header, before any status is read
        content = content.replace(b"<CreDtTm>", b"<CreDtTm>x", 1)
    elif kind == "cut":
        content = content[: len(content) - 80]
    elif kind == "huge amount":  # 30 digits: more than the schema's 18 and than a bigint
        content = content.replace(b">1</InstdAmt>", b">" + b"9" * 30 + b"</InstdAmt>", 1)
    elif kind == "another message and invalid":  # refused for its group, and not valid either
        content = content.replace(sent.message_id.encode(), b"ANS-NEVER-SENT", 1).replace(
            b"<OrgnlEndToEndId>ANS-900001-1", b"<Unexpected>ANS-900001-1", 1
        )
    elif kind == "another message":
        content = content.replace(sent.message_id.encode(), b"ANS-NEVER-SENT", 1)
    return content


def _imported(content: bytes, preparer_a):
    from django.db import transaction

    try:
        with transaction.atomic():
            job = statuses.import_status(actor=preparer_a, content=content, source=ImportSource.PAIN002)
            outcome = (
                job.state,
                job.refused_reason,
                job.summary,
                list(StatusImportRow.objects.filter(job=job).order_by("row_number").values_list("outcome", "amount")),
                sorted(Instruction.objects.values_list("end_to_end_id", "state")),
            )
            transaction.set_rollback(True)
    except FormatError as exc:
        outcome = ("error", str(exc), exc.line)
    assert not StatusImport.objects.exists()
    return outcome


@pytest.mark.parametrize(
    "kind",
    ["valid", "schema late", "schema early", "cut", "huge amount", "another message", "another message and invalid"],
)
def test_a_report_validated_apart_is_imported_the_same(sent, preparer_a, monkeypatch, kind):
    """A large pain.002 is validated by a subprocess while the import reads it without the schema
    (`pain002.Report(apart=True)`): the same job, rows and states for a valid file; for one that
    is not valid the same error (words and line) as a reading with the schema, nothing written;
    a refusal for the report's group waits for the subprocess (an invalid file is an error)."""
    content = _variant(sent, kind)
    serial = _imported(content, preparer_a)
    monkeypatch.setattr(pain002, "APART_FROM", 0)
    monkeypatch.setattr(pain002, "spare_cpu", lambda: True)
    started = []
    real = pain002._xml.Validator
    monkeypatch.setattr(pain002._xml, "Validator", lambda *a: started.append(a) or real(*a))
    assert _imported(content, preparer_a) == serial
    assert started
    if kind in ("valid", "another message"):
        assert serial[0] != "error"
    else:
        assert serial[0] == "error", serial
