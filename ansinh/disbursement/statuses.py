"""Importing what the provider answered (issue 11 parts 2 and 4): a pain.002 status report, the
provider's XLSX results list, or the sandbox bank's answer — all the same way.

Every import is a job (`StatusImport`) with one row per status (`StatusImportRow`) and the
SHA-256 of its content under a unique constraint: the same file again returns the job already
there and changes nothing. A pain.002 names the message it answers: a report for a message we
never wrote, or whose number of transfers or total differs from the file written for the batch
(the content that was approved), is refused (the refusal is recorded too). Each row is then
classified in SQL against the instruction it names:

- applied: the instruction was waiting (sent, accepted) and moves to the status;
- unchanged: the instruction already has it (a second report), or the row repeats an earlier row;
- unknown: no instruction of the batch has this end-to-end id (reported, never dropped);
- mismatch: the amount in the answer differs from the instruction's: flagged, not booked;
- late credit: "credited" for an instruction rejected or cancelled, or for a line already paid
  another way (a switch to cash): an exception, never a second payment;
- conflict: contradicts a final status ("rejected" after "credited").

Applying is set-based: rows go in with COPY while the file is parsed (bounded memory; on
PostgreSQL into a temporary table, from which one `INSERT … SELECT` writes the job's rows already
linked and classified), then a few `UPDATE … FROM` and `INSERT … SELECT` statements. A
credited instruction's lines get their `Payout` rows (one per line, unique); rejected,
mismatched and late-credited instructions become exceptions for the office; payees are told by
SMS (`notices`, by a task enqueued when the import commits)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.services import record
from ansinh.core.bulk import insert_rows
from ansinh.payroll.models import CycleState
from ansinh.payroll.services import transition

from .batches import BatchForbidden, BatchRefused, may_operate, require_operate
from .formats.pain002 import STATUS_MAP
from .models import (
    BATCH_TRANSITIONS,
    BatchState,
    ExceptionKind,
    ExceptionState,
    ImportSource,
    ImportState,
    Instruction,
    InstructionState,
    ProviderBatch,
    RowOutcome,
    StatusImport,
    StatusImportRow,
    TransferException,
)

I = InstructionState  # noqa: E741
CHUNK = 5000
LISTED = 50  # unknown ids and mismatches listed in a job's summary (all are in its rows)

Source = str | os.PathLike | bytes


@contextmanager
def _as_path(content: Source) -> Iterator[Path]:
    if isinstance(content, bytes):
        with tempfile.NamedTemporaryFile(suffix=".dat") as tmp:
            tmp.write(content)
            tmp.flush()
            yield Path(tmp.name)
    else:
        yield Path(content)


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _actor_id(actor):
    return actor.pk if getattr(actor, "pk", None) else None


def _refuse(actor, *, source, name, sha, reason, batch=None, message_id="", original="") -> StatusImport:
    job = StatusImport.objects.create(
        source=source,
        file_name=name[:255],
        checksum=sha,
        message_id=message_id[:35],
        original_message_id=original[:35],
        batch=batch,
        state=ImportState.REFUSED,
        refused_reason=reason,
        area_path=batch.area_path if batch else "",
        created_by_id=_actor_id(actor),
    )
    record(
        actor=actor,
        action="disbursement.status.refused",
        obj=job,
        area=batch.cycle.area if batch else None,
        after={"file": name, "reason": reason, "batch": batch.message_id if batch else ""},
    )
    return job


def _operates(actor, batch: ProviderBatch) -> bool:
    return actor is None or may_operate(actor, batch.cycle)


def import_status(
    *, actor, content: Source, source: str, file_name: str = "", batch: ProviderBatch | None = None
) -> StatusImport:
    """Import one status file (see the module). `batch`: the batch the user uploads it for (the
    XLSX results list names none; a pain.002 must answer this batch's message). Returns the job,
    the one already there for the same content."""
    from .formats import FormatError, pain002, provider_xlsx

    if source not in ImportSource.values:
        raise BatchRefused(_("Unknown file format."))
    with _as_path(content) as path:
        sha = checksum(path)
        existing = (
            StatusImport.objects.filter(checksum=sha, state=ImportState.APPLIED)
            .select_related("batch__cycle__area")
            .first()
        )
        if existing is not None and (existing.batch is None or _operates(actor, existing.batch)):
            return existing
        name = file_name or path.name
        if source == ImportSource.PAIN002:
            # FormatError: not a valid pain.002.001.10. A large file is validated in another
            # process while it is read (`Report(apart=True)`): every decision taken on its group
            # before its statuses are read waits for that answer (`report.check()`) first
            report = pain002.Report(path, apart=True)
            group = report.group
            check = report.check
            target = (
                ProviderBatch.objects.select_related("cycle__area", "contract")
                .filter(message_id=group.original_message_id)
                .first()
            )
            if target is not None and not _operates(actor, target):
                target = None  # another area's batch is, for this user, one the system never sent
            if target is None or (batch is not None and target.pk != batch.pk):
                check()
                reason = _("The report answers message %(id)s, which is not this batch's.") % {
                    "id": group.original_message_id
                }
                if target is None:
                    reason = _("The report answers message %(id)s, which the system never sent.") % {
                        "id": group.original_message_id
                    }
                return _refuse(
                    actor,
                    source=source,
                    name=name,
                    sha=sha,
                    reason=reason,
                    batch=batch,
                    message_id=group.message_id,
                    original=group.original_message_id,
                )
            if not _operates(actor, target) or target.state == BatchState.CREATED:
                check()
            require_operate(actor, target.cycle)
            if target.state == BatchState.CREATED:
                return _refuse(
                    actor,
                    source=source,
                    name=name,
                    sha=sha,
                    reason=_("Batch %(id)s was never sent: a report for it cannot be right.")
                    % {"id": target.message_id},
                    batch=target,
                    message_id=group.message_id,
                    original=group.original_message_id,
                )
            differs = (group.original_count is not None and group.original_count != target.instructions_count) or (
                group.original_total is not None and group.original_total != target.total_amount
            )
            if differs:
                check()
                return _refuse(
                    actor,
                    source=source,
                    name=name,
                    sha=sha,
                    reason=_(
                        "The report is for a file of %(count)s transfers totalling %(total)s đồng; the approved "
                        "batch %(id)s has %(our_count)s transfers totalling %(our_total)s đồng. The file the bank "
                        "received differs from what was approved: nothing was booked."
                    )
                    % {
                        "count": group.original_count if group.original_count is not None else "?",
                        "total": group.original_total if group.original_total is not None else "?",
                        "id": target.message_id,
                        "our_count": target.instructions_count,
                        "our_total": target.total_amount,
                    },
                    batch=target,
                    message_id=group.message_id,
                    original=group.original_message_id,
                )
            statuses = report.records()
            group_status = group.group_status or ""
            message = group.message_id
        else:
            if batch is None:
                raise BatchRefused(_("Choose the batch the results list is for."))
            batch = ProviderBatch.objects.select_related("cycle__area").get(pk=batch.pk)
            require_operate(actor, batch.cycle)
            if batch.state == BatchState.CREATED:
                raise BatchRefused(_("This batch was never sent: there are no results to import."))
            rows, errors = provider_xlsx.read_results(path)
            if errors:
                raise FormatError(
                    "; ".join(str(e) for e in errors[:20])
                    + (_(" (and %(n)s more)") % {"n": len(errors) - 20} if len(errors) > 20 else "")
                )
            statuses = ((tx.end_to_end_id, tx.status, tx.reason_code, tx.amount, tx.additional) for tx in rows)
            target, group_status, message = batch, "", ""
            check = _nothing_to_check
        try:
            return _apply(actor, target, source, name, sha, statuses, group_status, message, check)
        finally:
            if source == ImportSource.PAIN002:
                report.close()  # a validating subprocess whose answer nobody waited for is stopped


def _nothing_to_check() -> None:
    """A file read and checked as a whole before it is applied (the XLSX results list)."""


def _apply(
    actor, batch: ProviderBatch, source, name, sha, statuses, group_status: str, message: str, check
) -> StatusImport:
    with transaction.atomic():
        ProviderBatch.objects.select_for_update().filter(pk=batch.pk).first()
        # the same file imported at the same moment: the second waits for the batch's lock, then
        # finds the first one's job
        done = StatusImport.objects.filter(checksum=sha, state=ImportState.APPLIED).first()
        if done is not None:
            return done
        job = StatusImport.objects.create(
            source=source,
            file_name=name[:255],
            checksum=sha,
            message_id=message[:35],
            original_message_id=batch.message_id,
            batch=batch,
            group_status=group_status[:4],
            state=ImportState.APPLIED,
            area_path=batch.area_path,
            created_by_id=_actor_id(actor),
        )
        try:
            count = _write_rows(job, statuses)
        except Exception:
            # a file read apart whose rows the database refused (a value the schema forbids):
            # the file's own error, when it is not valid
            check()
            raise
        now = timezone.now()
        credited, rejected, posted = _classify_and_book(actor, job, batch, now)
        if credited or rejected:
            from ansinh.reconciliation import ledger  # the payouts and failed transfers, in this transaction

            ledger.on_status_job(actor=actor, job_id=job.pk, cycle_id=batch.cycle_id, payouts_posted=posted)
        summary = _summary(job)
        summary["rows"] = count
        _exceptions(job, batch)
        _advance_batch(batch, group_status, now)
        job.summary = summary
        job.save(update_fields=["summary"])
        record(
            actor=actor,
            action="disbursement.status.imported",
            obj=job,
            area=batch.cycle.area,
            after={
                "file": name,
                "batch": batch.message_id,
                "rows": count,
                "outcomes": summary["outcomes"],
                "credited": summary["amounts"].get(I.CREDITED, 0),
            },
        )
        if credited or rejected:
            # the payees' notices, queued by a task once the statuses are committed
            transaction.on_commit(partial(_enqueue_notices, job.pk))
            # the reports' aggregate tables, marked stale by the statuses: computed again in the
            # background, so that the first reader of a report does not wait for a month's import
            transaction.on_commit(_enqueue_facts)
    return job


def _enqueue_facts() -> None:
    from ansinh.reports.tasks import refresh_facts_task

    refresh_facts_task.enqueue()


def _enqueue_notices(job_id: int) -> None:
    from .tasks import notify_transfers_task

    notify_transfers_task.enqueue(job_id)


_ROW_COLUMNS = ("job", "row_number", "end_to_end_id", "bank_status", "status", "reason_code", "amount", "outcome")


def _row_values(number: int, record) -> tuple:
    """A status row's values as the file gives them (row number, end-to-end id, bank status,
    the state it maps to, reason code, amount), from a tuple of `pain002.TxStatus`'s fields."""
    end_to_end_id, status, reason_code, amount = record[:4]
    return (number, end_to_end_id[:35], status[:4], STATUS_MAP.get(status, ""), (reason_code or "")[:8], amount)


def _write_rows(job: StatusImport, statuses) -> int:
    """One row per status, in file order, written while the file is read (bounded memory);
    answers how many. PostgreSQL: plain tuples in one COPY (no model instance per row, which cost
    more than the parsing) into a temporary table, which `_classify_and_book` turns into the
    job's rows; elsewhere the job's rows by bulk_create in chunks."""
    count = 0
    if connection.vendor != "postgresql":
        chunk: list[StatusImportRow] = []
        for count, tx in enumerate(statuses, start=1):  # noqa: B007
            values = (job.pk, *_row_values(count, tx), RowOutcome.UNKNOWN)
            chunk.append(StatusImportRow(**dict(zip(("job_id", *_ROW_COLUMNS[1:]), values, strict=True))))
            if len(chunk) >= CHUNK:
                insert_rows(StatusImportRow, chunk)
                chunk = []
        if chunk:
            insert_rows(StatusImportRow, chunk)
        return count
    # PostgreSQL: into a temporary table (no index, no WAL); `_classify_and_book` writes the job's
    # rows from it already linked and classified, each row once (COPY into the job's rows, then an
    # UPDATE of every row, wrote each row and its five index entries twice)
    with connection.wrap_database_errors, connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {_STAGE} (row_number integer NOT NULL, end_to_end_id varchar(35) NOT NULL, "
            "bank_status varchar(4) NOT NULL, status varchar(10) NOT NULL, reason_code varchar(8) NOT NULL, "
            "amount bigint) ON COMMIT DROP"
        )
        with cur.cursor.copy(f"COPY {_STAGE} ({', '.join(_ROW_COLUMNS[1:-1])}) FROM STDIN") as copy:
            for count, record in enumerate(statuses, start=1):  # noqa: B007
                copy.write_row(_row_values(count, record))
        cur.execute(f"ANALYZE {_STAGE}")
    return count


_STAGE = "pg_temp.disb_status_stage"


def _outcome_case(payouts: str) -> tuple[str, list]:
    """The outcome of a row `r` that names instruction `i`, as it was before this job."""
    return (
        "CASE WHEN r.amount IS NOT NULL AND r.amount <> i.amount THEN %s "  # noqa: S608
        "WHEN r.status = i.state THEN %s "
        "WHEN r.status = %s AND i.state IN (%s, %s) THEN %s "
        f"WHEN r.status = %s AND EXISTS (SELECT 1 FROM {payouts} AS p WHERE p.line_id = i.line_id) THEN %s "
        "WHEN r.status <> '' AND i.state IN (%s, %s) THEN %s "
        "ELSE %s END",
        [
            RowOutcome.MISMATCH,
            RowOutcome.UNCHANGED,
            I.CREDITED,
            I.REJECTED,
            I.CANCELLED,
            RowOutcome.LATE_CREDIT,
            I.CREDITED,
            RowOutcome.LATE_CREDIT,
            I.SENT,
            I.ACCEPTED,
            RowOutcome.APPLIED,
            RowOutcome.CONFLICT,
        ],
    )


def _classify_and_book(actor, job: StatusImport, batch: ProviderBatch, now) -> tuple[int, int, bool]:
    """Link, classify and apply the job's rows (SQL); returns how many instructions this job
    credited and rejected, and whether the ledger's entries of the new payouts were posted with
    them (PostgreSQL)."""
    r, i = StatusImportRow._meta.db_table, Instruction._meta.db_table
    from ansinh.payroll.models import PaymentCycle, PayrollLine

    from .models import Payout

    p, lines = Payout._meta.db_table, PayrollLine._meta.db_table
    cycles = PaymentCycle._meta.db_table
    with connection.cursor() as cur:
        # link each row to the batch's instruction it names and classify it, in one pass over the
        # job's rows (a row is classified against the instruction as it was before this job).
        # The job's rows and often the batch's instructions (made minutes ago) are not in the
        # statistics yet: estimated at one row each, the planner joined them by a nested loop that
        # scanned the whole batch for every row (85 s for 20,000 rows). Joined as sets, a hash
        # join, linear whatever the estimates.
        case, case_params = _outcome_case(p)
        if connection.vendor == "postgresql":
            # the rows from the staging table, each with the batch's instruction it names and its
            # outcome; a row that repeats an earlier row's end-to-end id changes nothing (a window
            # over the instructions the ids name, unique per id: one sort of integers, not of the
            # ids' text, nor a correlated sub-query per row). The sort in memory (a million rows
            # spilled 80 MB to disk with the default work_mem).
            cur.execute("SET LOCAL enable_nestloop = off")
            cur.execute("SET LOCAL work_mem = '256MB'")
            cur.execute(
                f"INSERT INTO {r} (job_id, row_number, end_to_end_id, bank_status, status, reason_code, amount, "  # noqa: S608
                "instruction_id, outcome) "
                "SELECT %s, r.row_number, r.end_to_end_id, r.bank_status, r.status, r.reason_code, r.amount, i.id, "
                "CASE WHEN i.id IS NULL THEN %s "
                "WHEN row_number() OVER (PARTITION BY i.id ORDER BY r.row_number) > 1 THEN %s "
                f"ELSE {case} END "
                f"FROM {_STAGE} AS r LEFT JOIN {i} AS i ON i.end_to_end_id = r.end_to_end_id AND i.batch_id = %s",
                [job.pk, RowOutcome.UNKNOWN, RowOutcome.UNCHANGED, *case_params, batch.pk],
            )
            cur.execute("RESET enable_nestloop")
            cur.execute("RESET work_mem")
            cur.execute(f"DROP TABLE {_STAGE}")
        else:
            cur.execute(
                f"UPDATE {r} AS r SET instruction_id = i.id, outcome = {case} "  # noqa: S608
                f"FROM {i} AS i WHERE r.job_id = %s AND i.end_to_end_id = r.end_to_end_id AND i.batch_id = %s",
                [*case_params, job.pk, batch.pk],
            )
            # then a row that repeats an earlier row's end-to-end id changes nothing
            cur.execute(
                f"UPDATE {r} AS r SET outcome = %s FROM (SELECT id FROM (SELECT id, row_number() OVER ("  # noqa: S608
                f"PARTITION BY end_to_end_id ORDER BY row_number) AS k FROM {r} "
                "WHERE job_id = %s AND instruction_id IS NOT NULL) t WHERE t.k > 1) AS d WHERE r.id = d.id",
                [RowOutcome.UNCHANGED, job.pk],
            )
        # counts and the reason codes only: a million ids fetched into lists took hundreds of MB
        cur.execute(
            f"SELECT r.status, r.reason_code, COUNT(*) FROM {r} AS r "  # noqa: S608
            "WHERE r.job_id = %s AND r.outcome = %s AND r.status IN (%s, %s) GROUP BY r.status, r.reason_code",
            [job.pk, RowOutcome.APPLIED, I.CREDITED, I.REJECTED],
        )
        credited = rejected = 0
        codes: list[str] = []
        for status, code, n in cur.fetchall():
            if status == I.CREDITED:
                credited += int(n)
            else:
                rejected += int(n)
                codes.append(code or "")
        from .formats import pain002

        # the status, and for a rejection the reason in words (a CASE over the job's reason
        # codes), in one UPDATE: each instruction is written once (an UPDATE per reason code
        # after this one read the job's rows again and wrote the rejected instructions twice)
        reason_sql = "i.reason"
        reason_params: list[str] = []
        if codes:
            whens = " ".join(["WHEN %s THEN %s"] * len(codes))
            reason_sql = f"CASE WHEN r.status = %s THEN CASE r.reason_code {whens} ELSE i.reason END ELSE i.reason END"
            reason_params = [I.REJECTED]
            for code in codes:
                reason_params += [code, pain002.reason_text(code)[:255] if code else _("Rejected by the bank")]
        cur.execute(
            f"UPDATE {i} AS i SET state = r.status, bank_status = r.bank_status, reason_code = r.reason_code, "  # noqa: S608
            f"reason = {reason_sql}, status_at = %s FROM {r} AS r "
            "WHERE r.job_id = %s AND r.outcome = %s AND r.instruction_id = i.id",
            [*reason_params, now, job.pk, RowOutcome.APPLIED],
        )
        # the one settled payment of each line the credited transfers paid; a line paid already is
        # skipped by its unique key (ON CONFLICT), not by a NOT EXISTS sub-query: on a payout
        # table whose statistics say "empty" (the first month) the planner scanned the whole
        # table, the rows this statement inserts included, once per row (quadratic: 150 s for
        # 100,000 transfers)
        payouts = (
            f"INSERT INTO {p} (line_id, channel, instruction_id, amount, paid_at, area_path, "  # noqa: S608
            "month, beneficiary_id, commune_id, line_type) "
            "SELECT l.id, 'account', i.id, l.amount, %s, l.area_path, "
            "c.month, l.beneficiary_id, l.commune_id, l.line_type "
            f"FROM {r} AS r JOIN {i} AS i ON i.id = r.instruction_id "
            f"JOIN {lines} AS first ON first.id = i.line_id "
            f"JOIN {lines} AS l ON l.cycle_id = first.cycle_id AND l.beneficiary_id = first.beneficiary_id "
            "AND ((first.line_type = 'funeral' AND l.id = first.id) "
            "OR (first.line_type <> 'funeral' AND l.line_type <> 'funeral')) "
            f"JOIN {cycles} AS c ON c.id = first.cycle_id "
            "WHERE r.job_id = %s AND r.outcome = %s AND r.status = %s "
            "ON CONFLICT (line_id) DO NOTHING"
        )
        params = [now, job.pk, RowOutcome.APPLIED, I.CREDITED]
        if connection.vendor == "postgresql":
            # the ledger's entries of the new payouts in the same statement, from the rows it
            # inserts (finding them again afterwards probed the payouts and the lines a million
            # times: 16 s of a province month's import)
            from ansinh.reconciliation import ledger

            post, post_params = ledger.new_payouts_sql(actor=actor, cycle_id=batch.cycle_id, relation="new_payouts")
            cur.execute(
                f"WITH new_payouts AS ({payouts} RETURNING id, line_id, amount, paid_at, channel) {post}",
                [*params, *post_params],
            )
            return credited, rejected, True
        cur.execute(payouts, params)
    return credited, rejected, False


def _summary(job: StatusImport) -> dict:
    rows = StatusImportRow.objects.filter(job=job)
    outcomes: dict[str, int] = {}
    per_status: dict[str, int] = {}
    amounts: dict[str, int] = {}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT r.outcome, r.status, COUNT(*), COALESCE(SUM(i.amount), 0) "  # noqa: S608
            f"FROM {StatusImportRow._meta.db_table} AS r LEFT JOIN {Instruction._meta.db_table} AS i "
            "ON i.id = r.instruction_id WHERE r.job_id = %s GROUP BY r.outcome, r.status",
            [job.pk],
        )
        for outcome, status, n, total in cur.fetchall():
            outcomes[outcome] = outcomes.get(outcome, 0) + int(n)
            if outcome == RowOutcome.APPLIED:
                per_status[status] = per_status.get(status, 0) + int(n)
                amounts[status] = amounts.get(status, 0) + int(total)
    unknown = list(
        rows.filter(outcome=RowOutcome.UNKNOWN).order_by("row_number").values_list("end_to_end_id", flat=True)[:LISTED]
    )
    mismatches = [
        {"end_to_end_id": e2e, "expected": expected, "answered": answered}
        for e2e, expected, answered in rows.filter(outcome=RowOutcome.MISMATCH)
        .order_by("row_number")
        .values_list("end_to_end_id", "instruction__amount", "amount")[:LISTED]
    ]
    return {
        "outcomes": outcomes,
        "per_status": per_status,
        "amounts": amounts,
        "unknown_ids": unknown,
        "mismatches": mismatches,
    }


EXCEPTION_OF: dict[str, str] = {
    RowOutcome.MISMATCH: ExceptionKind.AMOUNT_MISMATCH,
    RowOutcome.LATE_CREDIT: ExceptionKind.LATE_CREDIT,
}


def _exceptions(job: StatusImport, batch: ProviderBatch) -> None:
    """An exception for each transfer the job rejected, mismatched or credited late (one per
    transfer and kind: a repeat is skipped by the unique key), in one INSERT … SELECT on every
    database (a model instance per row took 3–4 s for the 30,000 rejections of a province month)."""
    kinds = " ".join("WHEN %s THEN %s" for _ in EXCEPTION_OF)
    kind_params = [value for pair in EXCEPTION_OF.items() for value in pair]
    json = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TransferException._meta.db_table} (kind, state, instruction_id, batch_id, line_id, "  # noqa: S608
            "detail, commune_id, area_path, created_at, fix_id, resolution, note, resolved_at, resolved_by_id) "
            f"SELECT CASE r.outcome {kinds} ELSE %s END, %s, i.id, %s, i.line_id, "
            f"{json}('amount', i.amount, 'answered', r.amount, 'reason_code', r.reason_code, "
            "'bank_status', r.bank_status, 'job', %s), i.commune_id, i.area_path, %s, NULL, '', '', NULL, NULL "
            f"FROM {StatusImportRow._meta.db_table} AS r JOIN {Instruction._meta.db_table} AS i "
            "ON i.id = r.instruction_id WHERE r.job_id = %s AND r.outcome IN (%s, %s, %s) "
            "AND NOT (r.outcome = %s AND r.status IN (%s, %s, '')) ORDER BY r.row_number ON CONFLICT DO NOTHING",
            [
                *kind_params,
                ExceptionKind.REJECTED,
                ExceptionState.OPEN,
                batch.pk,
                job.pk,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                job.pk,
                RowOutcome.MISMATCH,
                RowOutcome.LATE_CREDIT,
                RowOutcome.APPLIED,
                RowOutcome.APPLIED,
                I.CREDITED,
                I.ACCEPTED,
            ],
        )


def batch_progress(batch: ProviderBatch) -> dict[str, int]:
    rows = Instruction.objects.filter(batch=batch, in_file=True).values_list("state")
    out: dict[str, int] = {}
    with connection.cursor() as cur:
        sql, params = rows.query.sql_with_params()
        cur.execute(f"SELECT t.state, COUNT(*) FROM ({sql}) t GROUP BY t.state", params)  # noqa: S608
        for state, n in cur.fetchall():
            out[state] = int(n)
    return out


def _advance_batch(batch: ProviderBatch, group_status: str, now) -> None:
    batch = ProviderBatch.objects.select_related("cycle").get(pk=batch.pk)
    progress = batch_progress(batch)
    waiting = progress.get(I.SENT, 0) + progress.get(I.ACCEPTED, 0)
    final = sum(n for s, n in progress.items() if s in (I.CREDITED, I.REJECTED, I.CANCELLED))
    target: str
    if final and not waiting:
        target = BatchState.REPORTED
    elif final:
        target = BatchState.PARTLY_REPORTED
    elif progress.get(I.ACCEPTED) or group_status in {"ACCP", "ACTC", "ACSP", "ACWC", "RCVD", "PDNG", "PART"}:
        target = BatchState.ACKNOWLEDGED
    else:
        target = batch.state
    if target != batch.state and target in BATCH_TRANSITIONS.get(batch.state, set()):
        batch.set_state(target)
        fields = ["state"]
        if target == BatchState.ACKNOWLEDGED or batch.acknowledged_at is None:
            batch.acknowledged_at = now
            fields.append("acknowledged_at")
        if target == BatchState.REPORTED:
            batch.reported_at = now
            fields.append("reported_at")
        batch.save(update_fields=fields)
    if batch.cycle.state == CycleState.SENT_TO_PROVIDER:
        transition(actor=None, cycle=batch.cycle, to_state=CycleState.PAYING, note=batch.message_id)


def import_file(*, actor, upload: BinaryIO, source: str, file_name: str, batch: ProviderBatch | None = None):
    """An uploaded file (the web form, the API): spooled to disk, then imported."""
    with tempfile.NamedTemporaryFile(suffix=".dat") as tmp:
        for block in iter(lambda: upload.read(1 << 20), b""):
            tmp.write(block)
        tmp.flush()
        return import_status(actor=actor, content=Path(tmp.name), source=source, file_name=file_name, batch=batch)


__all__ = ["BatchForbidden", "BatchRefused", "import_file", "import_status"]
