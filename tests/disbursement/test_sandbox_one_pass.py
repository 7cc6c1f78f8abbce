"""The sandbox bank reads a pain.001 once (schema, sums and transfers in the same pass), books in
chunks and writes its answer at the end: a file found invalid late books nothing, the chunk size
changes nothing in the answer or the books, an end-to-end id twice in one file is decided once."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ansinh.disbursement import sandbox
from ansinh.disbursement.formats import pain001, pain002
from ansinh.disbursement.models import SandboxMessage, SandboxTransfer
from tests.disbursement.conftest import NUMBERS

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def order(tmp_path: Path, transfers: list[pain001.Transfer], *, total: int | None = None) -> Path:
    header = pain001.Header(
        message_id="MSG-ONE-PASS",
        created_at=NOW,
        initiating_party="Buu dien",
        debtor_name="Buu dien",
        debtor_account="1234567890123",
        debtor_bin="970405",
        requested_date=date(2026, 3, 10),
        payment_info_id="MSG-ONE-PASS",
    )
    out = io.BytesIO()
    real = sum(t.amount for t in transfers)
    try:
        pain001.write(out, header, transfers, count=len(transfers), total=total or real)
    except ValueError:
        assert total is not None  # written with a wrong CtrlSum on purpose
    path = tmp_path / "order.xml"
    path.write_bytes(out.getvalue())
    return path


def transfers(n: int) -> list[pain001.Transfer]:
    people = list(NUMBERS.items())
    out = []
    for i in range(n):
        name, number = people[i % len(people)]
        out.append(
            pain001.Transfer(
                end_to_end_id=f"ANS-{i + 1}-1",
                amount=500_000 + i,
                creditor_name=pain001.plain_text(name.upper(), 140),
                creditor_account=number if i % 5 else "9990000000001",  # every fifth unknown
                creditor_bin="970405",
                remittance=f"Tro cap thang 03/2026 {i}",
            )
        )
    return out


def receive(path: Path, **options) -> bytes:
    out = io.BytesIO()
    sandbox.receive(path, out, options=sandbox.Options(seed="one-pass", **options), now=NOW)
    return out.getvalue()


def books() -> list[tuple]:
    return list(SandboxTransfer.objects.order_by("id").values_list("end_to_end_id", "bank_status", "reason_code"))


def test_the_chunk_size_changes_nothing(people, tmp_path, monkeypatch):
    path = order(tmp_path, transfers(23))
    whole = receive(path)
    booked = books()
    SandboxTransfer.objects.all().delete()
    SandboxMessage.objects.all().delete()
    monkeypatch.setattr(sandbox, "CHUNK", 4)
    assert receive(path) == whole
    assert books() == booked
    assert len(booked) == 23 and {status for _e2e, status, _code in booked} >= {"RJCT", "ACSC"}
    assert receive(path) == whole  # the same file again: from the books


@pytest.mark.parametrize("damage", ["sum", "schema"])
def test_a_file_found_invalid_late_books_nothing(people, tmp_path, monkeypatch, damage):
    monkeypatch.setattr(sandbox, "CHUNK", 4)  # chunks booked before the error is met
    items = transfers(23)
    if damage == "sum":
        path = order(tmp_path, items, total=123)
    else:
        path = order(tmp_path, items)
        content = path.read_bytes()
        last = content.rindex(b"<Cdtr>")
        path.write_bytes(content[:last] + b"<Cdtr><Foo/>" + content[last + len(b"<Cdtr>") :])
    with pytest.raises(sandbox.SandboxRefused):
        receive(path)
    assert not SandboxTransfer.objects.exists() and not SandboxMessage.objects.exists()


@pytest.mark.parametrize("chunk", [5000, 2])
def test_an_id_twice_in_one_file_is_decided_once(chunk, people, tmp_path, monkeypatch):
    # in chunks of 2 the repeat is read after the first one's chunk was booked (on PostgreSQL by
    # the worker thread, which this chunk's look-up waits for)
    monkeypatch.setattr(sandbox, "CHUNK", chunk)
    items = transfers(6)
    path = order(tmp_path, [*items, items[2]])
    answer = pain002.Report(io.BytesIO(receive(path, delays=False)))
    statuses = [(s.end_to_end_id, s.status, s.reason_code) for s in answer.transactions()]
    assert len(statuses) == 7 and statuses[6] == statuses[2]
    assert len(books()) == 6


def _damaged(tmp_path: Path, damage: str) -> Path:
    items = transfers(23)
    if damage == "sum":
        return order(tmp_path, items, total=123)
    path = order(tmp_path, items)
    content = path.read_bytes()
    if damage == "schema late":
        last = content.rindex(b"<Cdtr>")
        content = content[:last] + b"<Cdtr><Foo/>" + content[last + len(b"<Cdtr>") :]
    elif damage == "schema early":  # in the group header, before any transfer is read
        content = content.replace(b"<NbOfTxs>", b"<NbOfTxs>x", 1)
    elif damage == "cut":
        content = content[: len(content) - 60]
    elif damage == "long id":  # longer than the schema's 35: read without it, it reaches the database
        content = content.replace(b"ANS-7-1<", b"ANS-7-1" + b"X" * 40 + b"<", 1)
    path.write_bytes(content)
    return path


def _outcome(path: Path):
    try:
        answer = receive(path)
    except sandbox.SandboxRefused as exc:
        answer = ("refused", str(exc))
    booked = books()
    SandboxTransfer.objects.all().delete()
    SandboxMessage.objects.all().delete()
    return answer, booked


@pytest.mark.parametrize("damage", ["none", "sum", "schema late", "schema early", "cut", "long id"])
def test_a_file_validated_apart_gives_the_same_answer_or_the_same_refusal(people, tmp_path, monkeypatch, damage):
    """A large order is validated by a subprocess while the sandbox reads and books it without
    the schema (`pain001.Order(apart=True)`): the same answer and books for a valid file; for one
    that is not valid the same refusal (words and line) as a reading with the schema, and nothing
    booked."""
    monkeypatch.setattr(sandbox, "CHUNK", 4)
    path = _damaged(tmp_path, damage)
    serial = _outcome(path)
    monkeypatch.setattr(pain001, "APART_FROM", 0)
    monkeypatch.setattr(pain001, "spare_cpu", lambda: True)
    started = []
    real = pain001._xml.Validator
    monkeypatch.setattr(pain001._xml, "Validator", lambda *a: started.append(a) or real(*a))
    assert _outcome(path) == serial
    assert started  # it was read apart
    if damage == "none":
        assert len(serial[1]) == 23
    else:
        assert serial[0][0] == "refused" and serial[1] == []
