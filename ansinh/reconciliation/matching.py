"""Matching a statement's entries to the money the system knows (issue 13 part 2). Set-based:
the entries are staged in a temporary table (COPY on PostgreSQL, chunked inserts elsewhere), then
an INSERT … SELECT joins them to the transfers and advances and writes each row once, already
classified; never one query per entry (`stage_and_match`; on PostgreSQL a chunk at a time while
the file's next part is read). The SQL is the same on SQLite and PostgreSQL but for two lookups
(a LATERAL index probe per entry on PostgreSQL, whose planner would otherwise hash every
transfer, or every statement entry, of every month).

- Money out (DBIT) with an end-to-end id of one of the provider's transfers: kind "transfer";
  matched when the amount is the transfer's, "amount differs" otherwise; the same transfer
  already on an applied statement (or twice in this one) is "booked twice".
- Money in (CRDT) with return information, or with the end-to-end id of one of the provider's
  transfers: kind "return" (the transfer's money came back), matched or amount differs the same
  way.
- Other money in: the treasury's advance when the end-to-end id, the bank reference or the
  details carry an advance's treasury reference (matched when the amount is the advance's).
- Everything else: "unknown reference".

`missing_from_statement` lists the credited transfers that no applied statement shows although
a statement of the provider covers the day they were credited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Choices, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from ansinh.core.pipeline import Beside
from ansinh.disbursement.models import Instruction, InstructionState, ProviderBatch
from ansinh.payroll.models import Advance, PaymentCycle

from .models import EntryDirection, EntryKind, EntryOutcome, StatementEntry, StatementImport, StatementState

CHUNK = 5000  # rows per insert into the staging table (SQLite)
PIPELINE_CHUNK = 50_000  # rows staged and matched at a time on PostgreSQL while the next are read
WORK_MEM = "256MB"  # PostgreSQL's work_mem for the matching's join and sorts (the server's memory)

# the staged columns: `match_key` is the end-to-end id the entry carries (of the transfer itself,
# or for a return of the transfer returned), the key the transfers are looked up by
STAGED = (
    "row_number",
    "booking_date",
    "direction",
    "amount",
    "end_to_end_id",
    "original_end_to_end_id",
    "reference",
    "remittance",
    "return_reason",
    "match_key",
)
_STAGED_TYPES = (
    "integer",
    "date",
    "varchar(6)",
    "bigint",
    "varchar(35)",
    "varchar(35)",
    "varchar(35)",
    "varchar(140)",
    "varchar(8)",
    "varchar(35)",
)


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def staging_table(job: StatementImport) -> str:
    return f"recon_stage_{int(job.pk)}"


def _columns() -> tuple[str, str, str]:
    """The staging table's column definitions, its column names, and their placeholders."""
    columns = ", ".join(f"{name} {kind}" for name, kind in zip(STAGED, _STAGED_TYPES, strict=True))
    return columns, ", ".join(STAGED), ", ".join(["%s"] * len(STAGED))


def stage_and_match(job: StatementImport, rows: Iterable[tuple]) -> None:
    """Write `rows` (tuples of STAGED, in that order and in the file's order) into the job's
    StatementEntry rows, each with its kind, instruction or advance, expected amount, area and
    outcome: staged in a temporary table of the job's transaction, then matched by one
    INSERT … SELECT (`_match_sql`).

    On PostgreSQL a chunk at a time (PIPELINE_CHUNK rows), by a second thread on the same
    connection (the same transaction: `core.pipeline.Beside`) while this one reads the next chunk
    of the file: the database matches one part of the statement while the next part is parsed,
    instead of after the whole file (a province month: the matching's 8 s ran after 17 s of
    reading on a 2-CPU machine). A row repeating a transfer of an earlier chunk is found by the
    same test as one of an earlier statement: the job's earlier rows are written when the next
    chunk is matched. Elsewhere (SQLite) all rows are staged, then matched at once."""
    if connection.vendor != "postgresql":
        table = _stage_all(job, rows)
        with connection.cursor() as cursor:
            sql, params = _match_sql(job, table)
            cursor.execute(sql, params)
            cursor.execute(f"DROP TABLE {table}")
        return
    _pipelined(job, rows)


def _stage_all(job: StatementImport, rows: Iterable[tuple]) -> str:
    """SQLite: the rows in a temporary table (chunked inserts); its name."""
    table = staging_table(job)
    columns, names, marks = _columns()
    statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
    adapt = connection.ops.adapt_datefield_value
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
        chunk: list[tuple] = []
        for row in rows:
            chunk.append((*row[:1], adapt(row[1]), *row[2:]))
            if len(chunk) >= CHUNK:
                cursor.executemany(statement, chunk)
                chunk = []
        if chunk:
            cursor.executemany(statement, chunk)
    return table


def _pipelined(job: StatementImport, rows: Iterable[tuple]) -> None:
    """PostgreSQL: stage and match chunk after chunk in a worker thread on this connection
    (`core.pipeline.Beside`) while `rows` (the file being read) gives the next chunk here. An
    error on either side stops both before the transaction is rolled back."""
    table = staging_table(job)
    columns, names, _marks = _columns()
    sql, params = _match_sql(job, table)
    copy_sql = f"COPY {table} ({names}) FROM STDIN"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns}) ON COMMIT DROP")
        # for this transaction: each chunk's sorts in memory
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")

    def flush(cur, chunk: list[tuple], first: bool) -> None:
        with cur.copy(copy_sql) as copy:
            for row in chunk:
                copy.write_row(row)
        if first:  # the planner knows nothing of a fresh temporary table
            cur.execute(f"ANALYZE {table}")
        cur.execute(sql, params)
        cur.execute(f"TRUNCATE {table}")

    with Beside("statement-matching") as beside:
        first = True
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= PIPELINE_CHUNK:
                beside.run(flush, chunk, first)
                chunk, first = [], False
        if chunk:
            beside.run(flush, chunk, first)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")
        # the planner learns of the new rows now, not when autovacuum comes: the count of the
        # transfers missing from the statement (next, and in the checks) then hashes the
        # entries instead of probing them one transfer at a time
        cursor.execute(f"ANALYZE {_t(StatementEntry)}")


def _match_sql(job: StatementImport, table: str) -> tuple[str, list[Any]]:
    """The INSERT … SELECT that writes the rows staged in `table` into `job`'s rows, classified.
    A transfer already on an applied statement of the provider, this job's rows written before
    included, makes the row "booked twice", as does an earlier row of the same staged rows."""
    postgres = connection.vendor == "postgresql"
    position = "STRPOS" if postgres else "INSTR"
    # 1. the provider's transfer each entry names (end-to-end ids are unique among transfers),
    #    looked up by its end-to-end id: on PostgreSQL a LATERAL subquery (OFFSET 0 keeps it one)
    #    so that each entry is an index probe, not a hash of every transfer of every month
    if postgres:
        provider = "t.provider_id"
        lookup = (
            f"LEFT JOIN LATERAL (SELECT t.id, t.amount, t.area_path, b.provider_id FROM {_t(Instruction)} t "  # noqa: S608
            f"JOIN {_t(ProviderBatch)} b ON b.id = t.batch_id "
            "WHERE t.end_to_end_id = s.match_key AND s.match_key <> '' OFFSET 0) t ON true"
        )
    else:  # SQLite joins by nested loops on the indexes anyway
        provider = "b.provider_id"
        lookup = (
            f"LEFT JOIN {_t(Instruction)} t ON t.end_to_end_id = s.match_key AND s.match_key <> '' "
            f"LEFT JOIN {_t(ProviderBatch)} b ON b.id = t.batch_id"
        )
    named = (
        f"SELECT s.*, CASE WHEN {provider} = %s THEN t.id END AS instruction_id, "  # noqa: S608
        f"CASE WHEN {provider} = %s THEN t.amount END AS transfer_amount, "
        f"CASE WHEN {provider} = %s THEN t.area_path END AS transfer_area "
        f"FROM {table} s {lookup}"
    )
    named_params = [job.provider_id] * 3
    # 2. its kind; the first staged row naming the same transfer with the same kind; the
    #    treasury's advance among the other credits (the first by id)
    classified = (
        f"SELECT n.*, CASE WHEN n.direction = %s THEN %s ELSE %s END AS named_kind, "  # noqa: S608
        "CASE WHEN n.instruction_id IS NOT NULL THEN "
        "MIN(n.row_number) OVER (PARTITION BY n.instruction_id, n.direction) END AS first_row, "
        "CASE WHEN n.instruction_id IS NULL AND n.direction = %s THEN "
        f"(SELECT a.id FROM {_t(Advance)} a WHERE a.reference > '' AND (a.reference = n.end_to_end_id "
        f"OR a.reference = n.reference OR {position}(COALESCE(n.remittance, ''), a.reference) > 0) "
        "ORDER BY a.id LIMIT 1) END AS advance_id "
        f"FROM ({named}) n"
    )
    classified_params = [
        EntryDirection.DEBIT,
        EntryKind.TRANSFER,
        EntryKind.RETURN,
        EntryDirection.CREDIT,
        *named_params,
    ]
    # 3. the same transfer already on an applied statement of the provider (this job's rows
    #    written by an earlier chunk included): on PostgreSQL a probe of the entries' index per
    #    row (LATERAL … LIMIT 1), never a hash of every entry of every statement, which the
    #    planner may prefer when its statistics of the entries are old
    earlier_params: list[Any] = [StatementState.APPLIED, job.provider_id]
    earlier_from = (
        f"FROM {_t(StatementEntry)} u JOIN {_t(StatementImport)} j ON j.id = u.job_id "  # noqa: S608
        "WHERE u.instruction_id = m.instruction_id AND u.kind = m.named_kind AND j.state = %s AND j.provider_id = %s"
    )
    if postgres:
        earlier, earlier_join = (
            "e.found IS NOT NULL",
            f"LEFT JOIN LATERAL (SELECT 1 AS found {earlier_from} AND m.instruction_id IS NOT NULL LIMIT 1) e ON true ",
        )
    else:
        earlier, earlier_join = f"EXISTS (SELECT 1 {earlier_from})", ""
    columns = (
        "job_id, row_number, booking_date, direction, amount, end_to_end_id, original_end_to_end_id, reference, "
        "remittance, return_reason, kind, outcome, instruction_id, advance_id, expected_amount, area_path"
    )
    sql = (
        f"INSERT INTO {_t(StatementEntry)} ({columns}) "  # noqa: S608
        "SELECT %s, m.row_number, m.booking_date, m.direction, m.amount, m.end_to_end_id, "
        "m.original_end_to_end_id, m.reference, m.remittance, m.return_reason, "
        "CASE WHEN m.instruction_id IS NOT NULL THEN m.named_kind WHEN a.id IS NOT NULL THEN %s ELSE %s END, "
        "CASE WHEN m.instruction_id IS NOT NULL THEN "
        f"CASE WHEN m.first_row < m.row_number OR {earlier} THEN %s "
        "WHEN m.amount = m.transfer_amount THEN %s ELSE %s END "
        "WHEN a.id IS NOT NULL THEN CASE WHEN m.amount = a.amount THEN %s ELSE %s END "
        "ELSE %s END, "
        "m.instruction_id, a.id, "
        "CASE WHEN m.instruction_id IS NOT NULL THEN m.transfer_amount ELSE a.amount END, "
        "CASE WHEN m.instruction_id IS NOT NULL THEN m.transfer_area WHEN a.id IS NOT NULL THEN c.area_path "
        "ELSE %s END "
        f"FROM ({classified}) m {earlier_join}LEFT JOIN {_t(Advance)} a ON a.id = m.advance_id "
        f"LEFT JOIN {_t(PaymentCycle)} c ON c.id = a.cycle_id "
        "ORDER BY m.row_number"
    )
    params: list[Any] = [
        job.pk,
        EntryKind.ADVANCE,
        EntryKind.OTHER,
        *([] if postgres else earlier_params),
        EntryOutcome.DUPLICATE,
        EntryOutcome.MATCHED,
        EntryOutcome.AMOUNT_DIFFERS,
        EntryOutcome.MATCHED,
        EntryOutcome.AMOUNT_DIFFERS,
        EntryOutcome.UNKNOWN,
        job.area_path,
        *classified_params,
        *(earlier_params if postgres else []),
    ]
    return sql, [p.value if isinstance(p, Choices) else p for p in params]


def credited_between(first: date, last: date) -> Q:
    """Transfers credited on the days `first` to `last` (the current time zone's days, those of
    `missing_from_statement`'s TruncDate), as a range of `status_at` that the partial index of
    credited transfers (disb_instruction_credited) serves."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return Q(state=InstructionState.CREDITED, status_at__gte=start, status_at__lt=end)


def _shown() -> QuerySet[StatementEntry]:
    return StatementEntry.objects.filter(
        instruction_id=OuterRef("pk"), kind=EntryKind.TRANSFER, job__state=StatementState.APPLIED
    )


def _covered() -> Q:
    """Transfers credited on a day an applied statement of their provider covers: the applied
    statements' periods, joined where they touch, as ranges of `status_at` per provider (a few
    rows read here; the planner then estimates the transfers by the index of credited transfers
    by day, and hashes the statements' entries instead of probing them one transfer at a time)."""
    spans: dict[int, list[list[date]]] = {}
    for provider, first, last in (
        StatementImport.objects.filter(state=StatementState.APPLIED, from_date__isnull=False, to_date__isnull=False)
        .filter(from_date__lte=F("to_date"))
        .order_by("provider_id", "from_date")
        .values_list("provider_id", "from_date", "to_date")
    ):
        assert first is not None and last is not None  # filtered above
        joined = spans.setdefault(provider, [])
        if joined and first <= joined[-1][1] + timedelta(days=1):
            joined[-1][1] = max(joined[-1][1], last)
        else:
            joined.append([first, last])
    covered = Q(pk__in=[])
    for provider, periods in spans.items():
        for first, last in periods:
            covered |= Q(batch__provider_id=provider) & credited_between(first, last)
    return covered


def missing_from_statement(transfers: QuerySet[Instruction]) -> QuerySet[Instruction]:
    """The credited transfers among `transfers` that no applied statement shows, although an
    applied statement of their provider covers the day they were credited."""
    return (
        transfers.filter(state=InstructionState.CREDITED, status_at__isnull=False)
        .filter(_covered())
        .annotate(credited_on=TruncDate("status_at"))
        .exclude(Exists(_shown()))
    )


def missing_from_job(job: StatementImport) -> int:
    """How many of the provider's transfers credited on the days `job` (applied) covers no
    applied statement shows: `missing_from_statement` for the days of the job, which covers them
    itself. The provider's batches are named (a list of ids) so that the planner estimates the
    transfers right and hashes the entries."""
    batches = list(ProviderBatch.objects.filter(provider_id=job.provider_id).values_list("pk", flat=True))
    transfers = Instruction.objects.filter(batch_id__in=batches)
    if not (job.from_date and job.to_date):
        return missing_from_statement(transfers).count()
    return transfers.filter(credited_between(job.from_date, job.to_date)).exclude(Exists(_shown())).count()
