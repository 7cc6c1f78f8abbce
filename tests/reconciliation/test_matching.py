# ruff: noqa: F811 - the fixtures are imported from statement_fixtures and used as arguments
"""Matching a statement's entries (issue 13 part 2), the cases of `matching.stage_and_match` one by one:
the same results on SQLite and PostgreSQL from the one INSERT … SELECT."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ansinh.disbursement.models import Instruction, InstructionState
from ansinh.payroll.models import Advance
from ansinh.reconciliation import camt053, matching, statements
from ansinh.reconciliation.models import EntryKind, EntryOutcome, StatementEntry, StatementState
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
    world,
)
from tests.reconciliation.test_statements import _debit, _statement

K, OUT = EntryKind, EntryOutcome


def _credit(amount: int, **fields) -> camt053.Entry:
    return camt053.Entry(line=None, credit=True, amount=amount, booking_date=END, **fields)


def _rows(job) -> list[tuple]:
    assert job.state == StatementState.APPLIED, job.refused_reason
    rows = StatementEntry.objects.filter(job=job).order_by("row_number")
    assert list(rows.values_list("pk", flat=True)) == sorted(rows.values_list("pk", flat=True))
    return list(rows.values_list("kind", "outcome", "instruction_id", "advance_id", "expected_amount", "area_path"))


@pytest.mark.parametrize("chunk", [25_000, 1, 3])
def test_every_case_of_the_matching(chunk, sent, contract, preparer_a, monkeypatch):
    # on PostgreSQL the rows are matched a chunk at a time while the next are read: a transfer
    # twice in the statement is booked twice whether both rows are in one chunk or not
    monkeypatch.setattr(matching, "PIPELINE_CHUNK", chunk)
    a, b, c, *rest = Instruction.objects.filter(state=InstructionState.CREDITED).order_by("end_to_end_id")
    advance = Advance.objects.get(reference="KB-001")
    entries = [
        _debit(a, a.amount - 1000),
        _debit(b),
        _debit(c),
        _debit(b),  # twice in this statement
        _credit(b.amount, end_to_end_id=b.end_to_end_id, is_return=True, return_reason="AC04"),
        _credit(b.amount + 5, end_to_end_id=b.end_to_end_id, is_return=True),  # returned twice
        _credit(10, end_to_end_id="NOPE-1", is_return=True),  # a return of no transfer of ours
        _credit(c.amount, end_to_end_id=c.end_to_end_id),  # money in naming a transfer: its return
        camt053.Entry(line=None, credit=False, amount=77, booking_date=END, end_to_end_id="NOT-OURS"),
        camt053.Entry(line=None, credit=False, amount=78, booking_date=END),
        _credit(5, reference="KB-001"),  # the advance by the bank's reference
        _credit(6, remittance="xx KB-001 yy"),  # by the details
        _credit(advance.amount, end_to_end_id="KB-001"),  # by the end-to-end id, the right amount
        _credit(8, remittance="lai"),
        camt053.Entry(line=None, credit=False, amount=9, booking_date=END, reference="KB-001"),  # money out
        *(_debit(i) for i in rest),
    ]
    job = statements.import_statement(actor=preparer_a, content=_statement(entries), provider=contract.provider)
    area = job.area_path
    cycle_area = advance.cycle.area_path
    assert _rows(job)[:15] == [
        (K.TRANSFER, OUT.AMOUNT_DIFFERS, a.pk, None, a.amount, a.area_path),
        (K.TRANSFER, OUT.MATCHED, b.pk, None, b.amount, b.area_path),
        (K.TRANSFER, OUT.MATCHED, c.pk, None, c.amount, c.area_path),
        (K.TRANSFER, OUT.DUPLICATE, b.pk, None, b.amount, b.area_path),
        (K.RETURN, OUT.MATCHED, b.pk, None, b.amount, b.area_path),
        (K.RETURN, OUT.DUPLICATE, b.pk, None, b.amount, b.area_path),
        (K.OTHER, OUT.UNKNOWN, None, None, None, area),
        (K.RETURN, OUT.MATCHED, c.pk, None, c.amount, c.area_path),
        (K.OTHER, OUT.UNKNOWN, None, None, None, area),
        (K.OTHER, OUT.UNKNOWN, None, None, None, area),
        (K.ADVANCE, OUT.AMOUNT_DIFFERS, None, advance.pk, advance.amount, cycle_area),
        (K.ADVANCE, OUT.AMOUNT_DIFFERS, None, advance.pk, advance.amount, cycle_area),
        (K.ADVANCE, OUT.MATCHED, None, advance.pk, advance.amount, cycle_area),
        (K.OTHER, OUT.UNKNOWN, None, None, None, area),
        (K.OTHER, OUT.UNKNOWN, None, None, None, area),
    ]
    assert {row[:2] for row in _rows(job)[15:]} == {(K.TRANSFER, OUT.MATCHED)}
    assert job.summary["per_kind"][K.TRANSFER][OUT.DUPLICATE] == {"count": 1, "amount": b.amount}
    assert [u["row"] for u in job.summary["unknown"]] == [7, 9, 10, 14, 15]
    # a later statement: what an applied one showed already is booked twice, kind by kind
    later = statements.import_statement(
        actor=preparer_a, content=_statement(entries[1:8], end=END + timedelta(days=1)), provider=contract.provider
    )
    assert [row[:2] for row in _rows(later)] == [
        (K.TRANSFER, OUT.DUPLICATE),
        (K.TRANSFER, OUT.DUPLICATE),
        (K.TRANSFER, OUT.DUPLICATE),
        (K.RETURN, OUT.DUPLICATE),
        (K.RETURN, OUT.DUPLICATE),
        (K.OTHER, OUT.UNKNOWN),
        (K.RETURN, OUT.DUPLICATE),
    ]
