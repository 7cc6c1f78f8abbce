# ruff: noqa: F811 - the fixtures are imported from statement_fixtures and used as arguments
"""A large camt.053 is validated against the schema in a subprocess while the import reads it
without the schema (`camt053.Statement.validate_apart`): the same entries for a valid file, and
for a file that is not valid the same error (words and line) as a reading with the schema."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from ansinh.disbursement.formats.errors import FormatError
from ansinh.reconciliation import camt053, matching, statements
from ansinh.reconciliation.models import StatementEntry, StatementImport, StatementState
from tests.reconciliation.statement_fixtures import (  # noqa: F401
    END,
    START,
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

N = 3000  # entries: a file of ~2.5 MB, so that the subprocess is still reading when errors are met


def _statement() -> str:
    entries = []
    for i in range(N):
        credit = i % 7 == 0
        entries.append(
            camt053.Entry(
                line=None,
                credit=credit,
                amount=100_000 + i,
                booking_date=date(2026, 3, 1 + i % 28),
                reference=f"REF{i}",
                end_to_end_id=f"E2E-{i}",
                remittance=f"Tro cap thang 3 so {i}",
                is_return=credit and i % 2 == 0,
                return_reason="AC04" if credit and i % 2 == 0 else "",
            )
        )
    total = sum(e.amount if e.credit else -e.amount for e in entries)
    out = io.BytesIO()
    camt053.write(
        out,
        message_id="MSG-APART",
        created_at=datetime(2026, 4, 1, 8, 0),
        statement_id="STMT-APART",
        account_number="1234567890123",
        account_name="Buu dien",
        from_date=date(2026, 3, 1),
        to_date=date(2026, 3, 31),
        opening_balance=10**12,
        closing_balance=10**12 + total,
        entries=entries,
    )
    return out.getvalue().decode()


def _middle(text: str, old: str, new: str, *, at: float = 0.6) -> str:
    """`text` with the first match of the pattern `old` after `at` of its length replaced."""
    cut = int(len(text) * at)
    head, tail = text[:cut], text[cut:]
    changed = re.sub(old, new, tail, count=1, flags=re.S)
    assert changed != tail
    return head + changed


def _variants() -> dict[str, str]:
    good = _statement()
    return {
        "valid": good,
        "not valid: a code": _middle(good, "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>"),
        "not valid: an element missing": _middle(good, r"<Sts>\s*<Cd>BOOK</Cd>\s*</Sts>", ""),
        "not valid: early": _middle(good, "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>X</CdtDbtInd>", at=0.01),
        "not valid: then a fraction": _middle(
            _middle(good, r'Ccy="VND">(\d+)<', r'Ccy="VND">\1.5<', at=0.3),
            "<CdtDbtInd>DBIT</CdtDbtInd>",
            "<CdtDbtInd>DEBIT</CdtDbtInd>",
            at=0.7,
        ),
        "a fraction of a dong, then not valid": _middle(
            _middle(good, "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>", at=0.7),
            r'Ccy="VND">(\d+)<',
            r'Ccy="VND">\1.5<',
            at=0.3,
        ),
        "not well-formed": _middle(good, "</AcctSvcrRef>", "</AcctSvcrRefX>"),
        "truncated": good[: int(len(good) * 0.8)],
        # the entry's amount in another currency (an error), then only a transaction's (not read)
        "another currency": _middle(good, r'(<Ntry>\s*<NtryRef>[^<]*</NtryRef>\s*<Amt) Ccy="VND"', r'\1 Ccy="USD"'),
        "valid: another currency in the details": _middle(good, r'(<TxDtls>.*?<Amt) Ccy="VND"', r'\1 Ccy="USD"'),
    }


def _serial(path: Path):
    try:
        with camt053.Statement(path) as statement:
            return list(statement.records())
    except FormatError as exc:
        return ("error", str(exc), exc.line)


def _apart(path: Path):
    try:
        with camt053.Statement(path) as statement:
            assert statement.validate_apart()
            try:
                records = list(statement.unchecked_records())
            except Exception:
                statement.check()
                raise
            statement.check()
            return records
    except FormatError as exc:
        return ("error", str(exc), exc.line)


@pytest.mark.parametrize("variant", list(_variants()))
def test_the_same_entries_or_the_same_error(variant, tmp_path, monkeypatch):
    monkeypatch.setattr(camt053, "APART_FROM", 0)
    monkeypatch.setattr(camt053, "spare_cpu", lambda: True)
    path = tmp_path / "s.xml"
    path.write_text(_variants()[variant])
    serial = _serial(path)
    assert _apart(path) == serial
    if variant.startswith("valid"):
        assert len(serial) == N
    else:
        assert serial[0] == "error", serial


def test_a_small_file_or_bytes_are_read_with_the_schema(tmp_path):
    path = tmp_path / "s.xml"
    path.write_text(_statement())
    with camt053.Statement(path) as statement:
        assert not statement.validate_apart()  # under APART_FROM
    with camt053.Statement(path.read_bytes()) as statement:
        assert not statement.validate_apart()


def _import(data: bytes, contract, preparer_a):
    job = statements.import_statement(actor=preparer_a, content=data, provider=contract.provider)
    rows = list(
        StatementEntry.objects.filter(job=job)
        .order_by("row_number")
        .values_list("row_number", "kind", "outcome", "instruction_id", "amount", "end_to_end_id")
    )
    figures = (job.state, job.refused_reason, job.entries_count, job.credits_total, job.debits_total, job.summary)
    StatementEntry.objects.all().delete()
    StatementImport.objects.all().delete()
    return figures, rows


def test_the_import_is_the_same_either_way(sent, contract, preparer_a, monkeypatch):
    data = statement_bytes(contract, returns_per_mille=500).decode()
    unbalanced = re.sub(
        r"(<Cd>CLBD</Cd>.*?<Amt Ccy=\"VND\">)(\d+)<", lambda m: f"{m.group(1)}{int(m.group(2)) + 7}<", data, flags=re.S
    )
    last = data.rfind("<CdtDbtInd>DBIT</CdtDbtInd>")
    invalid = data[:last] + "<CdtDbtInd>DEBIT</CdtDbtInd>" + data[last + len("<CdtDbtInd>DBIT</CdtDbtInd>") :]
    # an end-to-end id longer than the schema's 35 characters: read without the schema it reaches
    # the database (a column of 35), whose error must not stand in for the file's
    long_id = re.sub(r"<EndToEndId>[^<]*</EndToEndId>", "<EndToEndId>" + "X" * 40 + "</EndToEndId>", data, count=1)
    assert long_id != data
    for text in (data, unbalanced, invalid, data[: len(data) - 40], long_id):
        serial = _import(text.encode(), contract, preparer_a)
        monkeypatch.setattr(camt053, "APART_FROM", 0)
        monkeypatch.setattr(camt053, "spare_cpu", lambda: True)
        # and on PostgreSQL staged and matched in many chunks while the file is read
        monkeypatch.setattr(matching, "PIPELINE_CHUNK", 2)
        apart = _import(text.encode(), contract, preparer_a)
        monkeypatch.undo()
        assert apart == serial
    assert serial[0][0] == StatementState.REFUSED
