"""The sandbox bank (issue 11 part 3): answers a pain.001 with a pain.002 the way the provider's
partner bank would, so that the demo and the tests run the whole transfer loop. No bank is
involved; the account numbers exist nowhere but in this system's encrypted store.

It validates the file against the official XSD, then decides each transfer once, from what it
can check and from a seeded draw on the transfer's content (deterministic):

- the account number is unknown to the system's receiving accounts → rejected AC01;
- the account is closed → rejected AC04;
- about 1.2 % → rejected AC01 (unknown account), 0.8 % → AC04 (closed), 1 % → BE01 (the name
  does not match the account holder's), and any name that does not match the holder's name
  (rapidfuzz, accent-free) → BE01;
- with delays on, about 5 % → pending (PDNG): the final answer ("credited") comes to a status
  query after `delay_minutes`;
- the rest → credited (ACSC).

The draw is a SHA-256 of the seed and what the file says of the transfer: the receiving bank
(BIN) and account number, the amount, the remittance text (which names the month and the payee)
and the attempt — the last number of an end-to-end id `ANS-<line id>-<attempt>` (a resend after
a rejection is the next attempt, `resend_of` the rejected one, so it is drawn again and can
succeed); an end-to-end id of another shape stands whole for the attempt. Never the line id: it
is a database id, so the same transfer got another answer whenever other rows were written
before (a test after other tests on a pytest-xdist worker, a demo on an older database). The
same transfer content gives the same answer on every run, whatever the database ids.
`Options.rejected` names end-to-end ids the bank rejects whatever the draw (AC04: the account
was closed at the bank): the demo's one rejected transfer, which must not hang on the draw.

It keeps its own books (`SandboxTransfer`, `SandboxMessage`): a transfer is credited at most
once, whatever is resent; the same file again is answered from the books. It reads the file once
(`pain001.Order`: schema, sums and transfers in the same pass), decides and books the transfers
in chunks (one query for the chunk's known ids, one for their accounts, one COPY of the new
books), buffers each transfer's answer in a temporary file and writes the pain.002 at the end,
when the group status is known; a file found invalid on the way books nothing (one database
transaction). Reached through `ansinh.disbursement.bank.SandboxBank` (the UI and the CLI) and,
when enabled, the HTTP endpoint of `views_sandbox` (the protocol of docs/bank-gateway.md)."""

from __future__ import annotations

import hashlib
import pickle
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from rapidfuzz import fuzz

from ansinh.core.text import strip_accents
from ansinh.payments import crypto
from ansinh.payments.models import AccountStatus, ReceivingAccount

from .models import SandboxMessage, SandboxTransfer

if TYPE_CHECKING:
    from .formats.pain001 import Transfer

CHUNK = 5000
DEFAULT_SEED = "ansinh-sandbox"


def enabled() -> bool:
    return getattr(settings, "ANSINH_BANK_GATEWAY", "sandbox") == "sandbox"


@dataclass(frozen=True)
class Options:
    seed: str = DEFAULT_SEED
    delays: bool = True
    delay_minutes: int = 60
    validate: bool = True
    # the seeded share of failures (~3 %): off for a replayed history whose outcome is published
    # (the demo's 2023 pilot months); unknown or closed accounts and mismatching names still fail
    random_failures: bool = True
    # end-to-end ids rejected AC04 (closed at the bank) whatever the draw: a scripted rejection
    rejected: frozenset[str] = field(default_factory=frozenset)


def default_options() -> Options:
    return Options(
        seed=getattr(settings, "ANSINH_SANDBOX_BANK_SEED", DEFAULT_SEED),
        delays=getattr(settings, "ANSINH_SANDBOX_BANK_DELAYS", True),
        random_failures=getattr(settings, "ANSINH_SANDBOX_BANK_RANDOM_FAILURES", True),
    )


class SandboxRefused(ValueError):
    """The sandbox bank refuses the file (not a valid pain.001)."""


_ATTEMPT = re.compile(r"ANS-[0-9]+-([0-9]+)")


def attempt(end_to_end_id: str) -> str:
    """The attempt an end-to-end id names: N of the system's `ANS-<line id>-<N>` (never the
    line id, a database id), else the whole id."""
    match = _ATTEMPT.fullmatch(end_to_end_id)
    return match.group(1) if match else end_to_end_id


def draw_key(transfer) -> str:
    """What the seeded draw of a transfer (a `pain001.Transfer`) is taken from: its content,
    never a database id (see the module)."""
    return "|".join(
        (
            transfer.creditor_bin,
            "".join(transfer.creditor_account.split()),
            str(transfer.amount),
            transfer.remittance,
            attempt(transfer.end_to_end_id),
        )
    )


def _bucket(seed: str, key: str) -> int:
    return int(hashlib.sha256(f"{seed}|{key}".encode()).hexdigest()[:8], 16) % 1000


def _plain(name: str) -> str:
    name = name or ""
    if name.isascii():  # a pain.001 name always is (SWIFT Latin): nothing to strip
        return " ".join(name.upper().split())
    return " ".join(strip_accents(name).upper().split())


def _decide(options: Options, key: str, name: str, account, e2e: str = "") -> tuple[str, str, str, str]:
    """(status, reason, final status, final reason) of a new transfer; `key` is its `draw_key`."""
    if account is None:
        return "RJCT", "AC01", "RJCT", "AC01"
    if account.status == AccountStatus.CLOSED or e2e in options.rejected:
        return "RJCT", "AC04", "RJCT", "AC04"
    bucket = _bucket(options.seed, key) if options.random_failures else 999
    if bucket < 12:
        return "RJCT", "AC01", "RJCT", "AC01"
    if bucket < 20:
        return "RJCT", "AC04", "RJCT", "AC04"
    if bucket < 30 or fuzz.token_sort_ratio(_plain(name), _plain(account.holder_name)) < 80:
        return "RJCT", "BE01", "RJCT", "BE01"
    if options.delays and bucket < 80:
        return "PDNG", "", "ACSC", ""
    return "ACSC", "", "ACSC", ""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def receive(source: Path, out: BinaryIO, *, options: Options | None = None, now: datetime | None = None) -> None:
    """Take a pain.001 file and write the pain.002 answer to `out` (see the module).

    One pass over the file: it is validated (schema; with `options.validate` the sums too) as
    its transfers are read, decided and booked in chunks, their answers buffered in a temporary
    file; the answer is written once the file is read to its end, when the group status is
    known. A file that turns out not to be valid books nothing (one database transaction)."""
    from .formats import FormatError, pain001

    options = options or default_options()
    now = now or timezone.now()
    source = Path(source)
    sha = _sha256(source)
    with tempfile.TemporaryFile() as answers:
        try:
            with transaction.atomic():
                # a large file is validated in another process while it is read here; `check`
                # waits for its answer before the books are committed, and raises the file's
                # own error when reading what is not valid failed first
                order = pain001.Order(source, check_sums=options.validate, apart=True)
                header = order.header
                try:
                    # pending transfers of this message whose delay is over get their final
                    # answer first; a transfer booked now that is already due gets it as it is
                    chunk: list = []
                    _release(now, header["message_id"])
                    for transfer in order.transfers():
                        chunk.append(transfer)
                        if len(chunk) >= CHUNK:
                            _book(chunk, header["message_id"], options, now, answers)
                            chunk = []
                    if chunk:
                        _book(chunk, header["message_id"], options, now, answers)
                    order.check()
                except Exception:
                    order.check()  # nothing more when `check` itself raised
                    raise
                finally:
                    order.close()
                SandboxMessage.objects.get_or_create(
                    sha256=sha,
                    defaults={
                        "message_id": header["message_id"],
                        "transactions": header["count"],
                        "control_sum": header["total"],
                        "received_at": now,
                    },
                )
        except FormatError as exc:
            if options.validate:
                raise SandboxRefused(str(exc)) from exc
            raise
        answers.seek(0)
        _answer(header, answers, out, now)


_ROW = (
    "end_to_end_id",
    "message_id",
    "amount",
    "creditor_name",
    "account_hash",
    "bank_status",
    "reason_code",
    "final_status",
    "final_reason_code",
    "received_at",
    "answer_after",
    "credited_at",
)


class _Account(NamedTuple):
    status: str
    holder_name: str


def _book(chunk: list[Transfer], message_id: str, options: Options, now: datetime, answers: IO[bytes]) -> None:
    """Decide the transfers of `chunk` not decided before (a resent id keeps its decision: the
    same file again is answered from the books), book them, and add the answer of every transfer
    of the chunk, in its order, to `answers`."""
    ids = [t.end_to_end_id for t in chunk]
    books: dict[str, tuple[str, str]] = {
        e2e: (status, reason)
        for e2e, status, reason in _lookup(SandboxTransfer, "end_to_end_id", ids, "bank_status", "reason_code")
    }
    fresh: dict[str, Transfer] = {}
    for t in chunk:
        if t.end_to_end_id not in books:
            fresh.setdefault(t.end_to_end_id, t)  # an id twice in the file: the first decides
    if fresh:
        transfers = list(fresh.values())
        hashes = crypto.hash_many([t.creditor_account for t in transfers])
        accounts = {
            h: _Account(status, holder)
            for h, status, holder in _lookup(ReceivingAccount, "number_hash", hashes, "status", "holder_name")
        }
        later = now + timedelta(minutes=options.delay_minutes)
        rows = []
        for t, h in zip(transfers, hashes, strict=True):
            status, reason, final, final_reason = _decide(
                options, draw_key(t), t.creditor_name, accounts.get(h), t.end_to_end_id
            )
            answer_after = later if status == "PDNG" else None
            credited_at = now if status == "ACSC" else None
            if answer_after is not None and answer_after <= now:  # no delay: released at once
                if final == "ACSC":
                    status, reason, credited_at = "ACSC", "", now
                else:
                    status, reason = "RJCT", "NARR"
            books[t.end_to_end_id] = (status, reason)
            rows.append(
                (
                    t.end_to_end_id,
                    message_id,
                    t.amount,
                    t.creditor_name,
                    h,
                    status,
                    reason,
                    final,
                    final_reason,
                    now,
                    answer_after,
                    credited_at,
                )
            )
        _insert(rows)
    pickle.dump([(t.end_to_end_id, *books[t.end_to_end_id], t.amount) for t in chunk], answers, pickle.HIGHEST_PROTOCOL)


def _lookup(model: type[Model], key: str, values: list[str], *columns: str) -> list[tuple]:
    """(key, *columns) of the rows of `model` whose `key` is one of `values` (field names that are
    their columns' names, given by this module). On PostgreSQL one array parameter (`= ANY`): an
    `IN` of thousands of placeholders costs more to build and parse than to run."""
    wanted = list(set(values))
    if connection.vendor != "postgresql":
        return list(model._default_manager.filter(**{f"{key}__in": wanted}).values_list(key, *columns))
    quote = connection.ops.quote_name
    # quoted names given by this module; the values go in as one parameter
    names, table = ", ".join(quote(c) for c in (key, *columns)), quote(model._meta.db_table)
    statement = f"SELECT {names} FROM {table} WHERE {quote(key)} = ANY(%s)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, [wanted])
        return cursor.fetchall()


def _insert(rows: list[tuple]) -> None:
    """The new books: COPY on PostgreSQL (no model instance per transfer), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        SandboxTransfer.objects.bulk_create(
            [SandboxTransfer(**dict(zip(_ROW, row, strict=True))) for row in rows], batch_size=1000
        )
        return
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(SandboxTransfer._meta.db_table), sql.SQL(", ").join(sql.Identifier(c) for c in _ROW)
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _release(now: datetime, message_id: str | None = None) -> None:
    """Pending transfers whose delay is over get their final answer (credited once)."""
    due = SandboxTransfer.objects.filter(bank_status="PDNG", answer_after__lte=now)
    if message_id is not None:
        due = due.filter(message_id=message_id)
    due.filter(final_status="ACSC").update(bank_status="ACSC", reason_code="", credited_at=now)
    due.exclude(final_status="ACSC").update(bank_status="RJCT", reason_code="NARR")


def _group_status(message_id: str) -> str:
    statuses = set(
        SandboxTransfer.objects.filter(message_id=message_id).values_list("bank_status", flat=True).distinct()
    )
    if statuses == {"ACSC"}:
        return "ACSC"
    if statuses == {"RJCT"}:
        return "RJCT"
    if statuses == {"PDNG"}:
        return "PDNG"
    return "PART"


def _buffered(answers: IO[bytes]) -> Iterator:
    """The answers `_book` buffered, in the file's order."""
    from .formats import pain002

    while True:
        try:
            chunk = pickle.load(answers)  # noqa: S301 (a temporary file this process wrote)
        except EOFError:
            return
        for e2e, status, reason, amount in chunk:
            yield pain002.TxStatus(end_to_end_id=e2e, status=status, reason_code=reason, amount=amount)


def _answer(header: dict, answers: IO[bytes], out: BinaryIO, now: datetime) -> None:
    from .formats import pain002

    group = pain002.GroupStatus(
        message_id=f"SBX-{now:%Y%m%d%H%M%S}-{header['message_id']}"[:35],
        created_at=now.replace(microsecond=0),
        original_message_id=header["message_id"],
        original_name="pain.001.001.09",
        original_count=header["count"],
        original_total=header["total"],
        group_status=_group_status(header["message_id"]),
    )
    pain002.write(out, group, _buffered(answers))


def status_report(message_id: str, out: BinaryIO, *, now: datetime | None = None) -> bool:
    """Answer a status query for a message received before (False: never received)."""
    from .formats import pain002

    now = now or timezone.now()
    message = SandboxMessage.objects.filter(message_id=message_id).order_by("-received_at").first()
    if message is None:
        return False
    _release(now, message_id)
    group = pain002.GroupStatus(
        message_id=f"SBQ-{now:%Y%m%d%H%M%S}-{message_id}"[:35],
        created_at=now.replace(microsecond=0),
        original_message_id=message_id,
        original_name="pain.001.001.09",
        original_count=message.transactions,
        original_total=message.control_sum,
        group_status=_group_status(message_id),
    )
    rows = SandboxTransfer.objects.filter(message_id=message_id).order_by("id")
    statuses = (
        pain002.TxStatus(end_to_end_id=e2e, status=status, reason_code=code, amount=amount)
        for e2e, status, code, amount in rows.values_list(
            "end_to_end_id", "bank_status", "reason_code", "amount"
        ).iterator(CHUNK)
    )
    pain002.write(out, group, statuses)
    return True
