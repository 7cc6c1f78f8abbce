"""Provider batches (issue 11 part 1): building the transfer instructions of an approved and
funded cycle, holding a line whose beneficiary was stopped after approval, and writing the
batch's files (pain.001, the provider's XLSX list).

- One instruction per beneficiary and account: the net of the beneficiary's lines of the month
  paid into an account (regular allowance + arrears − a recovery deducted); `line` is the first
  of them. Funeral support is its own instruction under the funeral contract. An instruction is
  made only for a net above zero.
- End-to-end ids are stable: `ANS-<line id>-<attempt>`; building again never makes a second
  instruction for a line (the partial unique constraint `disb_instruction_one_live` backs it).
  A resend after a final rejection is a new instruction (attempt + 1, `resend_of` the rejected
  one) made once the office's fix of the line (a corrected account) is approved.
- Writing a file: the first write fixes which instructions are in the file (`in_file`), moves
  them to "sent", the batch to "exported" and the cycle to "sent to the provider", in one
  transaction; every later write of the same batch and format is byte-identical (same SHA-256).
  If the process dies between writing the file and recording it, nothing was recorded and the
  next run writes the same file again.

Everything is set-based or chunked: the lines are read with their accounts and names in one
streamed query, instructions go in with COPY (plain tuples, `_insert_instructions`), the files
are streamed from the database in chunks of `CHUNK` rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core import pipeline
from ansinh.core.bulk import insert_rows
from ansinh.core.errors import DomainError
from ansinh.core.pipeline import Beside
from ansinh.payments import crypto
from ansinh.payments.models import ReceivingAccount
from ansinh.payroll.fixes import with_effective_channel
from ansinh.payroll.models import (
    Channel,
    ContractPurpose,
    CycleState,
    FixKind,
    FixState,
    LineFix,
    LineType,
    PaymentCycle,
    PayrollApproval,
    PayrollLine,
    ProviderContract,
)
from ansinh.payroll.services import contract_for, transition
from ansinh.registry.models import Beneficiary, Status

from .models import (
    DEAD_STATES,
    BatchState,
    ExceptionKind,
    ExportedFile,
    FileFormat,
    Instruction,
    InstructionState,
    ProviderBatch,
    TransferException,
)

S = CycleState
I = InstructionState  # noqa: E741
CHUNK = 2000
# a batch is made once the cycle is funded, and while the month is being paid (resends)
BATCHABLE_STATES = (S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING)
OPERATE_CAPS = (Cap.PAYROLL_PREPARE, Cap.PAYMENTS_PROVIDE)


class BatchRefused(DomainError):
    """The batch cannot be made or written (the message says why)."""


class BatchForbidden(DomainError):
    """The user's role does not allow this here."""


def may_operate(user, cycle: PaymentCycle) -> bool:
    return any(access.can_in_area(user, cap, cycle.area) for cap in OPERATE_CAPS)


def require_operate(actor, cycle: PaymentCycle) -> None:
    if actor is not None and not may_operate(actor, cycle):
        raise BatchForbidden(_("Your role does not allow sending transfers here."))


def end_to_end_id(line_id: int, attempt: int) -> str:
    return f"ANS-{line_id}-{attempt}"


def message_id(cycle_id: int, provider_id: int, sequence: int) -> str:
    return f"ANS-C{cycle_id}-P{provider_id}-{sequence}"


def remittance_text(month, name: str, funeral: bool) -> str:
    """The text on the payee's statement: what the money is and for whom, never the category."""
    from .formats import pain001

    if funeral:
        text = _("Funeral support for %(name)s") % {"name": name}
    else:
        text = _("Allowance for %(month)s, %(name)s") % {"month": f"{month:%m/%Y}", "name": name}
    return pain001.plain_text(text, 140)


# --- which lines a batch takes --------------------------------------------------------------------


@dataclass
class Group:
    """One beneficiary's lines of the month paid into one account (or one funeral line), with
    what its instruction copies: the account's holder, institution and last digits (those of the
    line whose account it takes), the beneficiary's name and whether a stop holds it."""

    line_id: int
    beneficiary_id: int
    funeral: bool
    account_id: int
    commune_id: int
    area_path: str
    amount: int = 0
    name: str = ""
    held: bool = False
    account: tuple = ()  # (holder name, institution code, institution BIN, last 4 digits)


def _purpose(funeral: bool) -> str:
    return ContractPurpose.FUNERAL_EMERGENCY if funeral else ContractPurpose.REGULAR


def _group_rows(cycle: PaymentCycle) -> Iterator[tuple]:
    """The cycle's account-channel lines (after the approved fixes) in beneficiary order, each
    with its effective account's holder, institution code, BIN and last digits, the
    beneficiary's name and whether a stop recorded after approval holds them: one query (joins,
    no lookups per chunk; whether the line is held read from the beneficiary's row it joins, the
    institutions' few codes from a dict), streamed by a server-side cursor on PostgreSQL."""
    from ansinh.payments.models import Institution

    institutions = {pk: (code, bin_) for pk, code, bin_ in Institution.objects.values_list("pk", "code", "bin")}
    lines = (
        with_effective_channel(PayrollLine.objects.filter(cycle=cycle))
        .filter(effective_channel=Channel.ACCOUNT)
        .annotate(
            payee_full_name=F("beneficiary__full_name"),
            held=ExpressionWrapper(stopped_before(cycle, "beneficiary__"), output_field=BooleanField()),
        )
        .order_by()
        .values_list(
            "id",
            "beneficiary_id",
            "line_type",
            "amount",
            "effective_account_id",
            "commune_id",
            "area_path",
            "payee_full_name",
            "held",
        )
    )
    inner, params = lines.query.sql_with_params()
    accounts = connection.ops.quote_name(ReceivingAccount._meta.db_table)
    sql = (
        "SELECT t.id, t.beneficiary_id, t.line_type, t.amount, t.effective_account_id, t.commune_id, "  # noqa: S608
        "t.area_path, t.payee_full_name, t.held, a.holder_name, a.institution_id, a.last4 "
        f"FROM ({inner}) t LEFT JOIN {accounts} a ON a.id = t.effective_account_id "
        "ORDER BY t.beneficiary_id, t.line_type, t.id"
    )
    none = (None, None)
    with connection.chunked_cursor() as cur:
        cur.execute(sql, params)
        while rows := cur.fetchmany(CHUNK):
            for *line, holder, institution_id, last4 in rows:
                yield (*line, holder, *institutions.get(institution_id, none), last4)


def _groups(cycle: PaymentCycle) -> Iterator[Group]:
    """The account-channel groups of the cycle (after the approved fixes), in beneficiary order,
    streamed in chunks."""
    current: Group | None = None
    rank = {LineType.REGULAR: 0, LineType.ARREARS: 1, LineType.RECOVERY: 2}
    best = 9
    for row in _group_rows(cycle):
        line_id, beneficiary_id, line_type, amount, account_id, commune_id, area_path, name, held = row[:9]
        account = row[9:]
        funeral = line_type == LineType.FUNERAL
        if funeral:
            if account_id is not None:
                yield Group(
                    line_id, beneficiary_id, True, account_id, commune_id, area_path, amount, name, bool(held), account
                )
            continue
        if current is None or current.beneficiary_id != beneficiary_id:
            if current is not None:
                yield current
            current = Group(
                line_id, beneficiary_id, False, account_id, commune_id, area_path, 0, name, bool(held), account
            )
            best = 9
        if rank[line_type] < best:
            best = rank[line_type]
            current.line_id = line_id
            if account_id is not None:
                current.account_id = account_id
                current.account = account
        current.amount += amount
    if current is not None:
        yield current


def _taken_lines(cycle: PaymentCycle) -> set[int]:
    """Lines that already have an instruction and no approved resend after its final rejection."""
    live = (
        Instruction.objects.filter(line__cycle=cycle).exclude(state__in=DEAD_STATES).values_list("line_id", flat=True)
    )
    taken = set(live)
    dead = (
        Instruction.objects.filter(line__cycle=cycle, state__in=DEAD_STATES)
        .values("line_id")
        .annotate(last=Max("status_at"))
    )
    fixes = dict(
        LineFix.objects.filter(line__cycle=cycle, kind=FixKind.RESEND, state=FixState.APPROVED)
        .values("line_id")
        .annotate(last=Max("decided_at"))
        .values_list("line_id", "last")
    )
    for row in dead:
        fixed_at = fixes.get(row["line_id"])
        if fixed_at is None or row["last"] is None or fixed_at <= row["last"]:
            taken.add(row["line_id"])
    return taken


def _attempts(cycle: PaymentCycle) -> dict[int, tuple[int, int]]:
    """line id → (attempts so far, the last instruction's id)."""
    out: dict[int, tuple[int, int]] = {}
    for line_id, pk in Instruction.objects.filter(line__cycle=cycle).order_by("id").values_list("line_id", "id"):
        n, _last = out.get(line_id, (0, 0))
        out[line_id] = (n + 1, pk)
    return out


def stopped_before(cycle: PaymentCycle, prefix: str = "") -> Q:
    """Beneficiaries a stop recorded after approval concerns: stopped (or died) before the
    cycle's month — the month of death is paid in full — or suspended. `prefix` names the
    beneficiary from another model ("beneficiary__" from a payroll line)."""

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    return q(status=Status.SUSPENDED) | q(status=Status.STOPPED) & (
        q(end_month__lt=cycle.month)
        | q(death_date__lt=cycle.month)
        | q(end_month__isnull=True, death_date__isnull=True)
    )


# the columns `flush` gives, in this order (every concrete field but the id)
_INSTRUCTION_FIELDS = (
    "batch_id",
    "line_id",
    "end_to_end_id",
    "amount",
    "creditor_name",
    "account_id",
    "institution_code",
    "institution_bin",
    "account_last4",
    "remittance",
    "state",
    "bank_status",
    "reason_code",
    "reason",
    "status_at",
    "resend_of_id",
    "commune_id",
    "area_path",
    "in_file",
    "notified",
)


def _insert_instructions(rows: list[tuple]) -> list[int]:
    """Insert instructions given as tuples of `_INSTRUCTION_FIELDS`; answers their ids in order.
    PostgreSQL: the ids from the sequence, then the plain tuples in one COPY (no model instance
    per row: building 100,000 of them cost more than the COPY); elsewhere bulk_create."""
    if connection.vendor != "postgresql":
        objs = [Instruction(**dict(zip(_INSTRUCTION_FIELDS, row, strict=True))) for row in rows]
        return [obj.pk for obj in insert_rows(Instruction, objs)]
    from psycopg import sql

    meta = Instruction._meta
    column = {f.attname: f.column for f in meta.concrete_fields}
    columns = [meta.pk.column, *(column[name] for name in _INSTRUCTION_FIELDS)]
    assert len(columns) == len(meta.concrete_fields)  # noqa: S101 - a field added to the model but not here
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(str(c)) for c in columns)
    )
    with connection.wrap_database_errors, connection.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cur.fetchall()]
        with cur.cursor.copy(statement) as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    return ids


@dataclass
class BuildResult:
    batches: list[ProviderBatch]
    created: int
    held: int
    refusals: list[str]


def _open_batch(cycle: PaymentCycle, contract: ProviderContract, approval: PayrollApproval, actor) -> ProviderBatch:
    batch = (
        ProviderBatch.objects.select_for_update()
        .filter(cycle=cycle, provider=contract.provider, state=BatchState.CREATED)
        .order_by("-sequence")
        .first()
    )
    if batch is not None:
        return batch
    last = ProviderBatch.objects.filter(cycle=cycle, provider=contract.provider).aggregate(m=Max("sequence"))["m"] or 0
    sequence = last + 1
    return ProviderBatch.objects.create(
        cycle=cycle,
        provider=contract.provider,
        contract=contract,
        sequence=sequence,
        message_id=message_id(cycle.pk, contract.provider_id, sequence),
        approval_hash=approval.content_hash,
        area_path=cycle.area_path,
        created_at=timezone.now().replace(microsecond=0),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def build_batches(*, actor, cycle: PaymentCycle) -> BuildResult:
    """Make (or complete) the cycle's batches: an instruction for every account-channel group
    that has none yet (or whose rejected transfer the office fixed). Running it again makes
    nothing new. Lines of beneficiaries stopped after approval are held (an exception each)."""
    from .formats import pain001

    cycle = PaymentCycle.objects.select_for_update().select_related("area", "programme").get(pk=cycle.pk)
    require_operate(actor, cycle)
    approval = PayrollApproval.objects.filter(cycle=cycle).first()
    if approval is None or cycle.state not in BATCHABLE_STATES:
        raise BatchRefused(_("Transfers are sent for an approved and funded payroll only."))
    taken = _taken_lines(cycle)
    attempts = _attempts(cycle)
    contracts: dict[bool, ProviderContract | None] = {}
    batches: dict[bool, ProviderBatch] = {}
    refusals: list[str] = []
    created = held = 0
    now = timezone.now()
    pending: list[Group] = []

    texts = {True: _("Funeral support for %(name)s"), False: _("Allowance for %(month)s, %(name)s")}
    month = f"{cycle.month:%m/%Y}"

    def remittance(name: str, funeral: bool) -> str:
        """remittance_text, with the two sentences translated once per build."""
        return pain001.plain_text(texts[funeral] % {"month": month, "name": name}, 140)

    def flush(groups: list[Group]) -> None:
        nonlocal created, held
        if not groups:
            return
        rows: list[tuple] = []
        for g in groups:
            holder, institution_code, institution_bin, last4 = g.account
            n, last = attempts.get(g.line_id, (0, 0))
            state = I.HELD if g.held else I.CREATED
            rows.append(
                (
                    batches[g.funeral].pk,
                    g.line_id,
                    end_to_end_id(g.line_id, n + 1),
                    g.amount,
                    holder[:140],
                    g.account_id,
                    institution_code,
                    institution_bin,
                    last4,
                    remittance(g.name or "", g.funeral),
                    state,
                    "",
                    "",
                    "",
                    now if state == I.HELD else None,
                    last or None,
                    g.commune_id,
                    g.area_path,
                    False,
                    False,
                )
            )
        ids = _insert_instructions(rows)
        exceptions = [
            TransferException(
                kind=ExceptionKind.HELD,
                instruction_id=pk,
                batch_id=row[0],
                line_id=row[1],
                commune_id=row[16],
                area_path=row[17],
                detail={"amount": row[3]},
            )
            for pk, row in zip(ids, rows, strict=True)
            if row[10] == I.HELD
        ]
        if exceptions:
            TransferException.objects.bulk_create(exceptions)
        created += len(rows)
        held += len(exceptions)

    for group in _groups(cycle):
        if group.amount <= 0 or group.line_id in taken:
            continue
        if group.funeral not in contracts:
            contracts[group.funeral] = contract_for(cycle, _purpose(group.funeral))
            contract = contracts[group.funeral]
            if contract is None:
                refusals.append(
                    _("No contract for %(purpose)s covers %(area)s in %(month)s: its transfers wait.")
                    % {
                        "purpose": ContractPurpose(_purpose(group.funeral)).label,
                        "area": cycle.area.full_name,
                        "month": f"{cycle.month:%m/%Y}",
                    }
                )
            elif not contract.covers_account:
                refusals.append(
                    _("Contract %(number)s does not cover payments into accounts.") % {"number": contract.number}
                )
                contracts[group.funeral] = None
            else:
                # the same provider under both contracts: one batch (the open one is found again)
                batches[group.funeral] = _open_batch(cycle, contract, approval, actor)
        if contracts[group.funeral] is None:
            continue
        pending.append(group)
        if len(pending) >= CHUNK:
            flush(pending)
            pending = []
    flush(pending)
    touched = {b.pk: b for b in batches.values()}.values()
    for batch in touched:
        _refresh_totals(batch)
    if created:
        record(
            actor=actor,
            action="disbursement.batch.built",
            obj=cycle,
            area=cycle.area,
            after={
                "month": f"{cycle.month:%Y-%m}",
                "instructions": created,
                "held": held,
                "batches": [b.message_id for b in touched],
            },
        )
    return BuildResult(list(touched), created, held, refusals)


def _refresh_totals(batch: ProviderBatch) -> None:
    """The batch's count and total: the instructions it will send (not held, not cancelled)."""
    rows = Instruction.objects.filter(batch=batch).exclude(state__in=(I.HELD, I.CANCELLED))
    if batch.state != BatchState.CREATED:
        rows = Instruction.objects.filter(batch=batch, in_file=True)
    with connection.cursor() as cur:
        sql, params = rows.values_list("amount").query.sql_with_params()
        cur.execute(f"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM ({sql}) t", params)  # noqa: S608
        count, total = cur.fetchone()
    batch.instructions_count = int(count)
    batch.total_amount = int(total)
    batch.save(update_fields=["instructions_count", "total_amount"])


# --- writing the files ---------------------------------------------------------------------------


class _HashingWriter:
    def __init__(self, out: BinaryIO):
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self.digest.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        if hasattr(self.out, "flush"):
            self.out.flush()


def _decrypt():
    return crypto.decryptor()


def _file_rows(batch: ProviderBatch, first: bool):
    qs = Instruction.objects.filter(batch=batch)
    qs = qs.filter(state=I.CREATED) if first else qs.filter(in_file=True)
    return qs.order_by("id")


def _mark_sent(cursor, ids: list[int], now: datetime) -> None:
    """The transfers `ids`, written into the batch's first file, marked sent (on `Beside`'s worker
    thread, with a cursor of the write's connection and transaction)."""
    cursor.execute(
        f"UPDATE {Instruction._meta.db_table} SET state = %s, in_file = true, status_at = %s "  # noqa: S608
        "WHERE id = ANY(%s) AND state = %s",
        [I.SENT.value, now, ids, I.CREATED.value],
    )


def _chunks(rows, marking: tuple[Beside, datetime] | None) -> Iterator[tuple]:
    """The rows of `rows` (a values_list with the transfer's id first) read a chunk at a time; at
    the first export on PostgreSQL (`marking`) each chunk's transfers are marked sent by the worker
    thread while this one writes them into the file (an UPDATE of the whole batch after the file,
    with nothing else to do meanwhile, took 1.4 s per 100,000 transfers). `write_file` marks the
    rest (all of them elsewhere) once the file is written."""
    rows = rows.iterator(CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        if marking is not None:
            beside, now = marking
            beside.run(_mark_sent, [row[0] for row in chunk], now)
        yield from chunk


def _transfers(batch: ProviderBatch, first: bool, marking: tuple[Beside, datetime] | None = None):
    from .formats import pain001

    decrypt = _decrypt()
    rows = _file_rows(batch, first).values_list(
        "id", "end_to_end_id", "amount", "creditor_name", "account__number_encrypted", "institution_bin", "remittance"
    )
    for _pk, e2e, amount, name, token, bin_, remittance in _chunks(rows, marking):
        yield pain001.Transfer(
            end_to_end_id=e2e,
            amount=amount,
            creditor_name=name,
            creditor_account=decrypt(token.encode()).decode(),
            creditor_bin=bin_,
            remittance=remittance,
        )


def _account_rows(batch: ProviderBatch, first: bool, marking: tuple[Beside, datetime] | None = None):
    from .formats import provider_xlsx

    decrypt = _decrypt()
    rows = _file_rows(batch, first).values_list(
        "id",
        "end_to_end_id",
        "line__payee_name",
        "commune__name",
        "institution_code",
        "account__number_encrypted",
        "amount",
        "remittance",
    )
    for _pk, e2e, payee, commune, institution, token, amount, remittance in _chunks(rows, marking):
        yield provider_xlsx.AccountRow(
            end_to_end_id=e2e,
            payee=payee,
            commune=commune,
            institution=institution,
            account_number=decrypt(token.encode()).decode(),
            amount=amount,
            remittance=remittance,
        )


def header_for(batch: ProviderBatch):
    from .formats import pain001

    contract = batch.contract
    if not contract.provider_account_number or contract.provider_institution is None:
        raise BatchRefused(
            _("Contract %(number)s has no funded account of the provider: add it to the contract first.")
            % {"number": contract.number}
        )
    provider = batch.provider
    created: datetime = timezone.localtime(batch.created_at)
    return pain001.Header(
        message_id=batch.message_id,
        created_at=created,
        initiating_party=provider.name,
        debtor_name=provider.name,
        debtor_account=contract.provider_account_number,
        debtor_bin=contract.provider_institution.bin,
        requested_date=created.date(),
        payment_info_id=batch.message_id,
    )


def _locked_batch(batch: ProviderBatch) -> ProviderBatch:
    return (
        ProviderBatch.objects.select_for_update(of=("self",))
        .select_related("cycle__area", "cycle__programme", "contract__provider_institution", "provider")
        .get(pk=batch.pk)
    )


def _check_holds(batch: ProviderBatch) -> int:
    """Before the first write: hold the instructions of beneficiaries stopped since the batch was
    made (a death reported late)."""
    cycle = batch.cycle
    waiting = Instruction.objects.filter(batch=batch, state=I.CREATED)
    stopped = Beneficiary.objects.filter(stopped_before(cycle))
    to_hold = list(
        waiting.filter(Exists(stopped.filter(pk=OuterRef("line__beneficiary_id")))).values_list(
            "pk", "line_id", "commune_id", "area_path", "amount"
        )
    )
    if not to_hold:
        return 0
    now = timezone.now()
    Instruction.objects.filter(pk__in=[r[0] for r in to_hold]).update(state=I.HELD, status_at=now)
    TransferException.objects.bulk_create(
        [
            TransferException(
                kind=ExceptionKind.HELD,
                instruction_id=pk,
                batch=batch,
                line_id=line_id,
                commune_id=commune_id,
                area_path=path,
                detail={"amount": amount},
            )
            for pk, line_id, commune_id, path, amount in to_hold
        ],
        ignore_conflicts=True,
    )
    return len(to_hold)


def _write(batch: ProviderBatch, file_format: str, writer: _HashingWriter, header, first: bool, marking) -> None:
    """The batch's file in `file_format` into `writer` (its transfers marked sent on the way with
    `marking`, see `_chunks`)."""
    from .formats import pain001, provider_xlsx

    if file_format == FileFormat.PAIN001:
        pain001.write(
            writer,  # type: ignore[arg-type]
            header,
            _transfers(batch, first, marking),
            count=batch.instructions_count,
            total=batch.total_amount,
        )
        return
    cycle = batch.cycle
    title = [
        batch.provider.name,
        _("Transfers of the allowances for %(month)s") % {"month": f"{cycle.month:%m/%Y}"},
        _("Batch %(id)s, paid from account %(account)s") % {"id": batch.message_id, "account": header.debtor_account},
    ]
    provider_xlsx.write_account_list(
        writer,  # type: ignore[arg-type]
        title_lines=title,
        rows=_account_rows(batch, first, marking),
        count=batch.instructions_count,
        total=batch.total_amount,
    )


def write_file(*, actor, batch: ProviderBatch, file_format: str, out: BinaryIO) -> ExportedFile:
    """Write the batch's file in `file_format` to `out` and record it (see the module). The
    caller discards what was written if this raises."""
    if file_format not in FileFormat.values:
        raise BatchRefused(_("Unknown file format."))
    with transaction.atomic():
        batch = _locked_batch(batch)
        cycle = batch.cycle
        require_operate(actor, cycle)
        approval = PayrollApproval.objects.filter(cycle=cycle).first()
        if approval is None or approval.content_hash != batch.approval_hash:
            raise BatchRefused(_("The batch no longer matches the approved payroll: it cannot be sent."))
        first = batch.state == BatchState.CREATED
        if first:
            _check_holds(batch)
            _refresh_totals(batch)
            if batch.instructions_count == 0:
                raise BatchRefused(_("The batch has no transfer to send."))
        header = header_for(batch)
        writer = _HashingWriter(out)
        now = timezone.now()
        with ExitStack() as stack:
            marking = (stack.enter_context(Beside("marking-sent")), now) if first and pipeline.available() else None
            _write(batch, file_format, writer, header, first, marking)
        sha = writer.digest.hexdigest()
        file, new = ExportedFile.objects.get_or_create(
            batch=batch,
            file_format=file_format,
            sha256=sha,
            defaults={
                "size": writer.size,
                "instructions_count": batch.instructions_count,
                "total_amount": batch.total_amount,
                "created_by": actor if getattr(actor, "pk", None) else None,
            },
        )
        if not new:
            ExportedFile.objects.filter(pk=file.pk).update(times=file.times + 1)
        if first:
            # what the worker thread has not marked already (every transfer but on PostgreSQL)
            Instruction.objects.filter(batch=batch, state=I.CREATED).update(state=I.SENT, in_file=True, status_at=now)
            batch.set_state(BatchState.EXPORTED)
            batch.exported_at = now
            batch.save(update_fields=["state", "exported_at"])
            if cycle.state == S.FUNDED:
                transition(actor=None, cycle=cycle, to_state=S.SENT_TO_PROVIDER, note=batch.message_id)
        record(
            actor=actor,
            action="disbursement.file.exported",
            obj=batch,
            area=cycle.area,
            after={
                "batch": batch.message_id,
                "format": file_format,
                "sha256": sha,
                "instructions": batch.instructions_count,
                "total": batch.total_amount,
                "first": first,
            },
        )
    return file


def file_name(batch: ProviderBatch, file_format: str) -> str:
    ext = "xml" if file_format == FileFormat.PAIN001 else "xlsx"
    return f"chuyen-khoan-{batch.cycle.month:%Y-%m}-{batch.message_id}.{ext}"
