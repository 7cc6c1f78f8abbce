"""The ledger of a payment cycle (issue 13 part 1). See docs/ledger.md.

Entries (`LedgerEntry`, append-only) are posted by the services that move money, in their
transaction and set-based (one INSERT … SELECT per kind, never one query per row):

- the advance received from the treasury (`payroll.funding.record_advance`): "advance:<id>";
- a payout of a payroll line (`disbursement.Payout`): a transfer credited
  (`disbursement.statuses`) or cash paid (`cashout.receipts`): "payout:<id>", its amount;
- a transfer the bank rejected (money back in the funded account, information: the line stays
  outstanding until it is resent or paid in cash): "failed:<instruction id>";
- cash not paid and returned when a cash list is closed (`cashout.closing`):
  "cash_return:<entry id>", the amounts of the entry's lines that have no payout;
- money recovered from a payee (`payroll.receivables.record_payee_recovery`; outside the
  month's advance, not in the invariant): "recovery:<audit event id>";
- the provider's fee (`post_fee`, at settlement): the caller's source.

The invariant of a cycle's money:

    advance = credited + cash paid + returned + fees + outstanding
    outstanding = (amounts of the cycle's lines not credited, paid in cash or returned)
                  + (advance − lines total − fees: the part of the advance not allocated to lines)

The outstanding part comes from the lines' operational state (payouts, cash entries returned),
never from the ledger, so the invariant holds exactly when the ledger's credited, cash paid and
returned equal the amounts of the lines the operations say were credited, paid in cash and
returned. That is what `check` verifies, kind by kind (`CHECK_SQL`, one query); on PostgreSQL a
deferred constraint trigger runs the same query at commit for every cycle whose money moved in
the transaction (`SQL`), so that an inconsistent state cannot be committed. The check applies
once a cycle's ledger is open (it has an entry: the advance opens it); cycles paid before the
ledger existed are brought in by `post_cycle` (command `post_ledger`).

An event after the cycle's ledger was closed (`close_ledger`, at the acceptance of the
provider's settlement) is posted to the next cycle (same approving unit and programme) whose
ledger is open, with `adjusts` = the cycle the money belongs to; the invariant counts it for
that cycle (entries are grouped by COALESCE(adjusts, cycle))."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.cashout.models import CashEntry, CashEntryLine
from ansinh.core.errors import DomainError
from ansinh.disbursement.models import Instruction, Payout
from ansinh.payments.models import ReceivingAccount
from ansinh.payroll.models import Advance, PaymentCycle, PayrollLine

from .models.ledger import LedgerClosing, LedgerEntry, LedgerKind

CHUNK = 2000
K = LedgerKind


class LedgerImbalance(DomainError):
    """The ledger of a cycle disagrees with its lines: the change is refused."""


class LedgerRefused(DomainError):
    pass


def _t(model) -> str:
    return model._meta.db_table


E, CL, RA = _t(LedgerEntry), _t(LedgerClosing), _t(ReceivingAccount)
P, L, I_, CE, EL, C, ADV = (
    _t(Payout),
    _t(PayrollLine),
    _t(Instruction),
    _t(CashEntry),
    _t(CashEntryLine),
    _t(PaymentCycle),
    _t(Advance),
)


# --- the check: one query per cycle, the same on SQLite (services) and PostgreSQL (trigger) ------


def _ledger_sums(where: str) -> str:
    """Per money cycle (the cycle the money belongs to): entries and sums per kind."""
    return (
        f"SELECT COALESCE(adjusts_id, cycle_id) AS mc, COUNT(*) AS n, "  # noqa: S608
        f"COALESCE(SUM(CASE WHEN kind = '{K.ADVANCE}' THEN amount ELSE 0 END), 0) AS advance, "
        f"COALESCE(SUM(CASE WHEN kind = '{K.CREDITED}' THEN amount ELSE 0 END), 0) AS credited, "
        f"COALESCE(SUM(CASE WHEN kind = '{K.CASH_PAID}' THEN amount ELSE 0 END), 0) AS cash_paid, "
        f"COALESCE(SUM(CASE WHEN kind = '{K.CASH_RETURNED}' THEN amount ELSE 0 END), 0) AS returned, "
        f"COALESCE(SUM(CASE WHEN kind = '{K.FEE}' THEN amount ELSE 0 END), 0) AS fees, "
        f"COALESCE(SUM(CASE WHEN kind = '{K.RECOVERY}' THEN amount ELSE 0 END), 0) AS recoveries, "
        f"COALESCE(SUM(CASE WHEN kind = '{K.TRANSFER_FAILED}' THEN amount ELSE 0 END), 0) AS failed "
        f"FROM {E} WHERE {where} GROUP BY COALESCE(adjusts_id, cycle_id)"
    )


def _line_sums(lines_where: str, entries_where: str) -> str:
    """Per cycle, from the lines' operational state: the lines' total and the amounts of the lines
    credited (an account payout), paid in cash (a cash payout) and returned (no payout, on a
    cash entry returned at closing that is not a withdrawal's)."""
    return (
        "SELECT l.cycle_id AS cid, COALESCE(SUM(l.amount), 0) AS lines_total, "  # noqa: S608
        "COALESCE(SUM(CASE WHEN p.channel = 'account' THEN l.amount ELSE 0 END), 0) AS credited, "
        "COALESCE(SUM(CASE WHEN p.channel = 'cash' THEN l.amount ELSE 0 END), 0) AS cash_paid, "
        "COALESCE(SUM(CASE WHEN p.id IS NULL AND r.line_id IS NOT NULL THEN l.amount ELSE 0 END), 0) AS returned "
        f"FROM {L} l LEFT JOIN {P} p ON p.line_id = l.id "
        f"LEFT JOIN (SELECT DISTINCT el.line_id FROM {EL} el JOIN {CE} ce ON ce.id = el.entry_id "
        f"WHERE {entries_where} AND ce.state = 'returned' AND ce.source <> 'withdrawal') r ON r.line_id = l.id "
        f"WHERE {lines_where} GROUP BY l.cycle_id"
    )


def _check_sql(cycle: str) -> str:
    """One row for the cycle `cycle` (an SQL expression): entries, then the ledger's credited,
    cash paid, returned, then the lines' (no row: the ledger is not open)."""
    ledger = _ledger_sums(f"((cycle_id = {cycle} AND adjusts_id IS NULL) OR adjusts_id = {cycle})")
    lines = _line_sums(f"l.cycle_id = {cycle}", f"ce.cycle_id = {cycle}")
    return (
        "SELECT g.n AS n, g.credited AS l_credited, g.cash_paid AS l_cash_paid, g.returned AS l_returned, "  # noqa: S608
        "COALESCE(o.credited, 0) AS o_credited, COALESCE(o.cash_paid, 0) AS o_cash_paid, "
        "COALESCE(o.returned, 0) AS o_returned "
        f"FROM ({ledger}) g LEFT JOIN ({lines}) o ON o.cid = g.mc"
    )


CHECK_SQL = _check_sql("%s")

# PostgreSQL: statement-level triggers (transition tables: one query per statement whatever the
# number of rows) note the cycles whose money moved in a pending table; a DEFERRABLE INITIALLY
# DEFERRED constraint trigger on that table checks each noted cycle once, at commit (or at SET
# CONSTRAINTS … IMMEDIATE), and removes the note: one full-cycle check per cycle per transaction,
# not per row. Ledger entries refuse UPDATE and DELETE (TRUNCATE, used by test flushes, is not
# affected).
SQL = f"""
CREATE TABLE IF NOT EXISTS reconciliation_ledger_pending (
    cycle_id bigint NOT NULL,
    txid bigint NOT NULL DEFAULT txid_current(),
    PRIMARY KEY (cycle_id, txid)
);
CREATE OR REPLACE FUNCTION recon_ledger_check(p_cycle bigint) RETURNS void AS $$
DECLARE
    res record;
BEGIN
    SELECT * INTO res FROM ({_check_sql("p_cycle")}) q;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF res.l_credited <> res.o_credited OR res.l_cash_paid <> res.o_cash_paid OR res.l_returned <> res.o_returned THEN
        RAISE EXCEPTION 'ledger of cycle % does not match its lines: credited % vs %, cash % vs %, returned % vs %',
            p_cycle, res.l_credited, res.o_credited, res.l_cash_paid, res.o_cash_paid, res.l_returned, res.o_returned
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION recon_ledger_pending_check() RETURNS trigger AS $$
BEGIN
    PERFORM recon_ledger_check(NEW.cycle_id);
    DELETE FROM reconciliation_ledger_pending WHERE cycle_id = NEW.cycle_id AND txid = NEW.txid;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS recon_ledger_pending_check ON reconciliation_ledger_pending;
CREATE CONSTRAINT TRIGGER recon_ledger_pending_check AFTER INSERT ON reconciliation_ledger_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION recon_ledger_pending_check();

CREATE OR REPLACE FUNCTION recon_ledger_note() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = '{E}' THEN
        INSERT INTO reconciliation_ledger_pending (cycle_id)
            SELECT DISTINCT COALESCE(adjusts_id, cycle_id) FROM new_rows ON CONFLICT DO NOTHING;
    ELSIF TG_TABLE_NAME = '{P}' THEN
        -- each payout's line looked up by its key (a probe per row written), never a join that
        -- may hash the whole lines table (twelve million rows a year) for a statement's rows
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO reconciliation_ledger_pending (cycle_id)
                SELECT DISTINCT c FROM (SELECT (SELECT l.cycle_id FROM {L} l WHERE l.id = n.line_id) AS c
                FROM new_rows n) t WHERE c IS NOT NULL ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO reconciliation_ledger_pending (cycle_id)
                SELECT DISTINCT c FROM (SELECT (SELECT l.cycle_id FROM {L} l WHERE l.id = o.line_id) AS c
                FROM old_rows o) t WHERE c IS NOT NULL ON CONFLICT DO NOTHING;
        END IF;
    ELSIF TG_TABLE_NAME = '{CE}' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO reconciliation_ledger_pending (cycle_id)
                SELECT DISTINCT cycle_id FROM new_rows WHERE state = 'returned' ON CONFLICT DO NOTHING;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO reconciliation_ledger_pending (cycle_id)
                SELECT DISTINCT cycle_id FROM old_rows WHERE state = 'returned' ON CONFLICT DO NOTHING;
        ELSE
            INSERT INTO reconciliation_ledger_pending (cycle_id)
                SELECT DISTINCT n.cycle_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE (n.state = 'returned') <> (o.state = 'returned') OR (n.state = 'returned'
                    AND (n.source <> o.source OR n.cycle_id <> o.cycle_id))
                ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- The keys of the money's rows, checked once per statement instead of by a foreign-key
-- constraint (a look-up and a row lock of the parent for each row at commit: a million a month):
-- a transfer's line and account and a payout's line (each looked up by its key: a probe per row
-- written) and a ledger entry's cycles (the few distinct ones of the statement). A key that
-- names no row is refused at the statement, as the constraint would at commit. Cycles, approved
-- lines and accounts are never deleted, and a transfer's line and account never change (below).
CREATE OR REPLACE FUNCTION recon_money_keys() RETURNS trigger AS $$
DECLARE
    missing bigint;
BEGIN
    IF TG_TABLE_NAME = '{I_}' THEN
        SELECT n.id INTO missing FROM new_rows n
            WHERE (SELECT l.id FROM {L} l WHERE l.id = n.line_id) IS NULL
               OR (SELECT a.id FROM {RA} a WHERE a.id = n.account_id) IS NULL LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'transfer % refused: its payroll line or its account does not exist', missing
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF TG_TABLE_NAME = '{P}' THEN
        SELECT n.line_id INTO missing FROM new_rows n
            WHERE (SELECT l.id FROM {L} l WHERE l.id = n.line_id) IS NULL LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'payout of line % refused: there is no such payroll line', missing
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSE
        SELECT k.id INTO missing FROM (
            SELECT DISTINCT cycle_id AS id FROM new_rows
            UNION SELECT DISTINCT adjusts_id FROM new_rows WHERE adjusts_id IS NOT NULL
        ) k WHERE NOT EXISTS (SELECT 1 FROM {C} c WHERE c.id = k.id) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger entry of cycle % refused: there is no such payment cycle', missing
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS recon_money_keys_insert ON {P};
CREATE TRIGGER recon_money_keys_insert AFTER INSERT ON {P}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_money_keys();
DROP TRIGGER IF EXISTS recon_money_keys_update ON {P};
CREATE TRIGGER recon_money_keys_update AFTER UPDATE ON {P}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_money_keys();
DROP TRIGGER IF EXISTS recon_money_keys_insert ON {E};
CREATE TRIGGER recon_money_keys_insert AFTER INSERT ON {E}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_money_keys();
DROP TRIGGER IF EXISTS recon_money_keys_insert ON {I_};
CREATE TRIGGER recon_money_keys_insert AFTER INSERT ON {I_}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_money_keys();
CREATE OR REPLACE FUNCTION recon_transfer_keys_fixed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the payroll line and the account of transfer % cannot change', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS recon_transfer_keys_fixed ON {I_};
CREATE TRIGGER recon_transfer_keys_fixed BEFORE UPDATE OF line_id, account_id ON {I_} FOR EACH ROW
    WHEN (NEW.line_id IS DISTINCT FROM OLD.line_id OR NEW.account_id IS DISTINCT FROM OLD.account_id)
    EXECUTE FUNCTION recon_transfer_keys_fixed();

CREATE OR REPLACE FUNCTION recon_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS recon_ledger_no_change ON {E};
CREATE TRIGGER recon_ledger_no_change BEFORE UPDATE OR DELETE ON {E}
    FOR EACH ROW EXECUTE FUNCTION recon_ledger_append_only();

DROP TRIGGER IF EXISTS recon_ledger_note_insert ON {E};
CREATE TRIGGER recon_ledger_note_insert AFTER INSERT ON {E}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_ledger_note();
DROP TRIGGER IF EXISTS recon_ledger_note_insert ON {P};
CREATE TRIGGER recon_ledger_note_insert AFTER INSERT ON {P}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_ledger_note();
DROP TRIGGER IF EXISTS recon_ledger_note_update ON {P};
CREATE TRIGGER recon_ledger_note_update AFTER UPDATE ON {P}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_ledger_note();
DROP TRIGGER IF EXISTS recon_ledger_note_delete ON {P};
CREATE TRIGGER recon_ledger_note_delete AFTER DELETE ON {P}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_ledger_note();
DROP TRIGGER IF EXISTS recon_ledger_note_insert ON {CE};
CREATE TRIGGER recon_ledger_note_insert AFTER INSERT ON {CE}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_ledger_note();
DROP TRIGGER IF EXISTS recon_ledger_note_update ON {CE};
CREATE TRIGGER recon_ledger_note_update AFTER UPDATE ON {CE}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_ledger_note();
DROP TRIGGER IF EXISTS recon_ledger_note_delete ON {CE};
CREATE TRIGGER recon_ledger_note_delete AFTER DELETE ON {CE}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_ledger_note();
"""  # noqa: S608 - table names from the models

DROP_SQL = f"""
DROP TRIGGER IF EXISTS recon_ledger_note_insert ON {CE};
DROP TRIGGER IF EXISTS recon_ledger_note_update ON {CE};
DROP TRIGGER IF EXISTS recon_ledger_note_delete ON {CE};
DROP TRIGGER IF EXISTS recon_ledger_note_insert ON {P};
DROP TRIGGER IF EXISTS recon_ledger_note_update ON {P};
DROP TRIGGER IF EXISTS recon_ledger_note_delete ON {P};
DROP TRIGGER IF EXISTS recon_ledger_note_insert ON {E};
DROP TRIGGER IF EXISTS recon_ledger_no_change ON {E};
DROP TRIGGER IF EXISTS recon_money_keys_insert ON {P};
DROP TRIGGER IF EXISTS recon_money_keys_update ON {P};
DROP TRIGGER IF EXISTS recon_money_keys_insert ON {E};
DROP TRIGGER IF EXISTS recon_money_keys_insert ON {I_};
DROP TRIGGER IF EXISTS recon_transfer_keys_fixed ON {I_};
DROP FUNCTION IF EXISTS recon_money_keys();
DROP FUNCTION IF EXISTS recon_transfer_keys_fixed();
DROP FUNCTION IF EXISTS recon_ledger_note();
DROP FUNCTION IF EXISTS recon_ledger_append_only();
DROP TABLE IF EXISTS reconciliation_ledger_pending;
DROP FUNCTION IF EXISTS recon_ledger_pending_check();
DROP FUNCTION IF EXISTS recon_ledger_check(bigint);
"""


def install_sql(apps, schema_editor) -> None:
    """Migration step (RunPython): the triggers on PostgreSQL; nothing elsewhere."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL, params=None)


def uninstall_sql(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def differences(cycle_id: int) -> dict[str, int]:
    """{kind: ledger − lines} where the cycle's ledger disagrees with its lines (empty: it
    agrees, or the ledger is not open)."""
    with connection.cursor() as cur:
        cur.execute(CHECK_SQL, [cycle_id] * CHECK_SQL.count("%s"))
        row = cur.fetchone()
    if row is None:
        return {}
    _n, lc, lp, lr, oc, op, orr = (int(v) for v in row)
    out = {K.CREDITED.value: lc - oc, K.CASH_PAID.value: lp - op, K.CASH_RETURNED.value: lr - orr}
    return {k: v for k, v in out.items() if v}


def check(cycle_ids: Iterable[int]) -> None:
    """Refuse (LedgerImbalance) when a cycle's ledger disagrees with its lines. The services call
    it after posting; on PostgreSQL the deferred trigger checks the same at commit."""
    for cycle_id in sorted(set(cycle_ids)):
        diff = differences(cycle_id)
        if diff:
            raise LedgerImbalance(
                _("The ledger of cycle %(cycle)s does not match its payroll lines: the change is refused.")
                % {"cycle": cycle_id}
            )


def _service_check(cycle_ids: Iterable[int]) -> None:
    # PostgreSQL: the constraint trigger checks at commit (one query per cycle and transaction)
    if connection.vendor != "postgresql":
        check(cycle_ids)


# --- where an entry goes -------------------------------------------------------------------------


def is_closed(cycle_id: int) -> bool:
    return LedgerClosing.objects.filter(cycle_id=cycle_id).exists()


def _target(cycle_id: int) -> tuple[int, int | None, str]:
    """(ledger cycle, adjusts, area path) of an event of `cycle_id`: its own ledger while open;
    once closed, the next cycle of the same approving unit and programme whose ledger is open
    (itself, flagged as an adjustment, while there is none)."""
    cycle = PaymentCycle.objects.only("pk", "approving_unit_id", "programme_id", "month", "area_path").get(pk=cycle_id)
    if not is_closed(cycle_id):
        return cycle.pk, None, cycle.area_path
    following = (
        PaymentCycle.objects.filter(
            approving_unit_id=cycle.approving_unit_id, programme_id=cycle.programme_id, month__gt=cycle.month
        )
        .exclude(pk__in=LedgerClosing.objects.values("cycle_id"))
        .order_by("month")
        .only("pk", "area_path")
        .first()
    )
    if following is None:
        return cycle.pk, cycle.pk, cycle.area_path
    return following.pk, cycle.pk, following.area_path


def _now_param():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _actor_id(actor) -> int | None:
    return actor.pk if getattr(actor, "pk", None) else None


_COLUMNS = "cycle_id, adjusts_id, kind, amount, line_id, source, occurred_at, recorded_at, recorded_by_id, area_path"


def _insert(select_sql: str, params: list) -> int:
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {E} ({_COLUMNS}) {select_sql} ON CONFLICT (source) DO NOTHING", params)  # noqa: S608
        return max(cur.rowcount or 0, 0)


def _head(cycle_id: int, actor) -> list:
    target, adjusts, path = _target(cycle_id)
    return [target, adjusts, _now_param(), _actor_id(actor), path]


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _in(ids: list[int]) -> str:
    return ", ".join(["%s"] * len(ids))


# --- posting (set-based) -------------------------------------------------------------------------


_PAYOUT_ENTRY = (
    f"SELECT %s, CAST(%s AS BIGINT), CASE p.channel WHEN 'account' THEN '{K.CREDITED}' ELSE '{K.CASH_PAID}' END, "
    "p.amount, p.line_id, 'payout:' || CAST(p.id AS TEXT), p.paid_at, %s, CAST(%s AS BIGINT), %s "
)


def _post_payouts(cycle_id: int, actor, where: str = "", params: list | None = None) -> int:
    """The payouts of the cycle's lines (filtered by `where`) the ledger lacks."""
    return _insert(
        f"{_PAYOUT_ENTRY}FROM {P} p JOIN {L} l ON l.id = p.line_id WHERE l.cycle_id = %s {where}",  # noqa: S608
        [*_head(cycle_id, actor), cycle_id, *(params or [])],
    )


def new_payouts_sql(*, actor, cycle_id: int, relation: str) -> tuple[str, list]:
    """The INSERT of the entries of the payouts in `relation` — the name of a relation with the
    payouts' `id`, `line_id`, `amount`, `paid_at` and `channel`, all of lines of `cycle_id` — for
    a writer that posts them in the statement that writes the payouts (PostgreSQL: `WITH
    relation AS (INSERT INTO … RETURNING …)` before it): the same entries `_post_payouts` would
    post after it, without finding the new payouts again (a million index probes of the payouts
    and the lines in a province month's status import)."""
    return (
        f"INSERT INTO {E} ({_COLUMNS}) {_PAYOUT_ENTRY}FROM {relation} p ON CONFLICT (source) DO NOTHING",  # noqa: S608
        _head(cycle_id, actor),
    )


def _post_failed(cycle_id: int, actor, where: str = "", params: list | None = None) -> int:
    target, adjusts, now, actor_id, path = _head(cycle_id, actor)
    return _insert(
        f"SELECT %s, CAST(%s AS BIGINT), '{K.TRANSFER_FAILED}', i.amount, i.line_id, 'failed:' || CAST(i.id AS TEXT), "  # noqa: S608
        "COALESCE(i.status_at, %s), %s, CAST(%s AS BIGINT), %s "
        f"FROM {I_} i JOIN {L} l ON l.id = i.line_id WHERE l.cycle_id = %s AND i.state = 'rejected' {where}",
        [target, adjusts, now, now, actor_id, path, cycle_id, *(params or [])],
    )


def _post_returns(cycle_id: int, actor, where: str = "", params: list | None = None) -> int:
    target, adjusts, now, actor_id, path = _head(cycle_id, actor)
    return _insert(
        f"SELECT %s, CAST(%s AS BIGINT), '{K.CASH_RETURNED}', SUM(l.amount), "  # noqa: S608
        "CASE WHEN COUNT(*) = 1 THEN MIN(l.id) END, "
        "'cash_return:' || CAST(ce.id AS TEXT), MAX(ce.updated_at), %s, CAST(%s AS BIGINT), %s "
        f"FROM {CE} ce JOIN {EL} el ON el.entry_id = ce.id JOIN {L} l ON l.id = el.line_id "
        f"LEFT JOIN {P} p ON p.line_id = l.id "
        "WHERE ce.cycle_id = %s AND ce.state = 'returned' AND ce.source <> 'withdrawal' AND p.id IS NULL "
        f"{where} GROUP BY ce.id HAVING SUM(l.amount) <> 0",
        [target, adjusts, now, actor_id, path, cycle_id, *(params or [])],
    )


def _post_advances(cycle_id: int, actor) -> int:
    target, adjusts, _now, actor_id, path = _head(cycle_id, actor)
    now = timezone.now()
    rows = [
        LedgerEntry(
            cycle_id=target,
            adjusts_id=adjusts,
            kind=K.ADVANCE,
            amount=a.amount,
            source=f"advance:{a.pk}",
            occurred_at=timezone.make_aware(dt.datetime.combine(a.received_on, dt.time(8))),
            recorded_at=now,
            recorded_by_id=actor_id if actor_id is not None else a.recorded_by_id,
            area_path=path,
        )
        for a in Advance.objects.filter(cycle_id=cycle_id)
    ]
    LedgerEntry.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- the hooks the services call -----------------------------------------------------------------


def on_advance(*, actor, advance: Advance) -> None:
    """`payroll.funding.record_advance`: the advance, in the same transaction."""
    _post_advances(advance.cycle_id, actor)
    _service_check([advance.cycle_id])


def on_status_job(*, actor, job_id: int, cycle_id: int, payouts_posted: bool = False) -> None:
    """`disbursement.statuses`: the payouts of the transfers this job credited and the transfers
    it rejected. `payouts_posted`: the job's payouts were posted with them (`new_payouts_sql`)."""
    from ansinh.disbursement.models import StatusImportRow

    rows = _t(StatusImportRow)
    if not payouts_posted:
        _post_payouts(
            cycle_id,
            actor,
            f"AND p.instruction_id IN (SELECT r.instruction_id FROM {rows} r WHERE r.job_id = %s "  # noqa: S608
            "AND r.status = 'credited' AND r.instruction_id IS NOT NULL)",
            [job_id],
        )
    _post_failed(
        cycle_id,
        actor,
        f"AND i.id IN (SELECT r.instruction_id FROM {rows} r WHERE r.job_id = %s "  # noqa: S608
        "AND r.status = 'rejected' AND r.instruction_id IS NOT NULL)",
        [job_id],
    )
    _service_check([cycle_id])


def on_instructions_failed(*, actor, instruction_ids: Iterable[int]) -> None:
    """Transfers rejected outside a status import (a status query answered directly)."""
    ids = sorted(set(instruction_ids))
    cycles: dict[int, list[int]] = {}
    for chunk in _chunks(ids):
        for pk, cycle_id in Instruction.objects.filter(pk__in=chunk).values_list("pk", "line__cycle_id"):
            cycles.setdefault(cycle_id, []).append(pk)
    for cycle_id, pks in cycles.items():
        for chunk in _chunks(pks):
            _post_failed(cycle_id, actor, f"AND i.id IN ({_in(chunk)})", chunk)


def on_payouts(*, actor, line_ids: Iterable[int]) -> None:
    """`cashout.receipts` (and any writer of payouts): the payouts of these lines."""
    ids = sorted(set(line_ids))
    if not ids:
        return
    cycles: dict[int, list[int]] = {}
    for chunk in _chunks(ids):
        for line_id, cycle_id in PayrollLine.objects.filter(pk__in=chunk).values_list("pk", "cycle_id"):
            cycles.setdefault(cycle_id, []).append(line_id)
    for cycle_id, lines in cycles.items():
        for chunk in _chunks(lines):
            _post_payouts(cycle_id, actor, f"AND p.line_id IN ({_in(chunk)})", chunk)
    _service_check(cycles)


def on_cash_returned(*, actor, cycle_id: int, entry_ids: Iterable[int]) -> None:
    """`cashout.closing`: the entries returned at closing."""
    ids = sorted(set(entry_ids))
    for chunk in _chunks(ids):
        _post_returns(cycle_id, actor, f"AND ce.id IN ({_in(chunk)})", chunk)
    _service_check([cycle_id])


def on_payee_recovery(*, actor, receivable, amount: int, on: dt.date, event_id: int) -> LedgerEntry | None:
    """`payroll.receivables.record_payee_recovery`: money recovered from the payee, outside the
    month's advance (not in the invariant), in the ledger of the cycle that found the
    overpayment, else the latest cycle of the programme over the receivable's commune."""
    cycle = receivable.detected_in
    if cycle is None:
        candidates = [
            c
            for c in PaymentCycle.objects.filter(programme_id=receivable.programme_id, month__lte=on).order_by(
                "-month", "pk"
            )[:50]
            if receivable.area_path.startswith(c.area_path)
        ]
        cycle = candidates[0] if candidates else None
    if cycle is None:
        return None
    target, adjusts, path = _target(cycle.pk)
    entry = LedgerEntry(
        cycle_id=target,
        adjusts_id=adjusts,
        kind=K.RECOVERY,
        amount=amount,
        source=f"recovery:{event_id}",
        occurred_at=timezone.make_aware(dt.datetime.combine(on, dt.time(8))),
        recorded_at=timezone.now(),
        recorded_by_id=_actor_id(actor),
        area_path=path,
    )
    entry.save()
    return entry


# --- for the other parts: settlement, dashboards -------------------------------------------------


def _require(actor, cycle: PaymentCycle, caps: tuple[str, ...]) -> None:
    if actor is None:
        return
    if not any(access.can_in_area(actor, cap, cycle.area) for cap in caps):
        raise LedgerRefused(_("Your role does not allow this on the ledger of this cycle."))


@transaction.atomic
def post_fee(*, actor, cycle: PaymentCycle, amount: int, source: str) -> LedgerEntry:
    """The provider's fee, paid on its own line at settlement. The same `source` again returns
    the entry already posted (refused when the amount differs)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerRefused(_("The fee must be a whole number of đồng greater than 0."))
    source = (source or "").strip()
    if not source or len(source) > 80:
        raise LedgerRefused(_("The fee needs a source key of at most 80 characters."))
    existing = LedgerEntry.objects.filter(source=source).first()
    if existing is not None:
        if existing.kind != K.FEE or existing.amount != amount:
            raise LedgerRefused(_("Another entry with this source is already posted."))
        return existing
    cycle = PaymentCycle.objects.select_related("area").get(pk=cycle.pk)
    _require(actor, cycle, (Cap.SETTLEMENT_ACCEPT, Cap.RECONCILE))
    target, adjusts, path = _target(cycle.pk)
    now = timezone.now()
    entry = LedgerEntry(
        cycle_id=target,
        adjusts_id=adjusts,
        kind=K.FEE,
        amount=amount,
        source=source,
        occurred_at=now,
        recorded_at=now,
        recorded_by_id=_actor_id(actor),
        area_path=path,
    )
    entry.save()
    record(
        actor=actor,
        action="reconciliation.ledger.fee_posted",
        obj=cycle,
        area=cycle.area,
        after={"month": f"{cycle.month:%Y-%m}", "amount": amount, "source": source, "ledger": target},
    )
    return entry


@transaction.atomic
def close_ledger(*, actor, cycle: PaymentCycle) -> LedgerClosing:
    """Close the cycle's ledger (the acceptance of the provider's settlement calls it): its
    balance is kept; later events of the cycle go to the next cycle's ledger as adjustments.
    Closing twice returns the first closing. A ledger that disagrees with its lines is not
    closed."""
    cycle = PaymentCycle.objects.select_for_update(of=("self",)).select_related("area").get(pk=cycle.pk)
    existing = LedgerClosing.objects.filter(cycle=cycle).first()
    if existing is not None:
        return existing
    _require(actor, cycle, (Cap.SETTLEMENT_ACCEPT, Cap.RECONCILE))
    check([cycle.pk])
    snapshot = balance(cycle)
    closing = LedgerClosing.objects.create(
        cycle=cycle,
        closed_at=timezone.now(),
        closed_by=actor if _actor_id(actor) else None,
        balance=snapshot.as_dict(),
        area_path=cycle.area_path,
    )
    record(
        actor=actor,
        action="reconciliation.ledger.closed",
        obj=cycle,
        area=cycle.area,
        after={"month": f"{cycle.month:%Y-%m}", **snapshot.as_dict()},
    )
    return closing


@transaction.atomic
def post_cycle(*, actor, cycle: PaymentCycle) -> dict[str, int]:
    """Catch-up: post what the cycle's operational state implies and the ledger lacks (advances,
    payouts, failed transfers, cash returned) — for cycles paid before the ledger existed.
    Idempotent and set-based (a few INSERT … SELECT). Returns the entries posted per kind."""
    cycle = PaymentCycle.objects.select_related("area").get(pk=cycle.pk)
    before = _counts(cycle.pk)
    _post_advances(cycle.pk, actor)
    _post_payouts(cycle.pk, actor)
    _post_failed(cycle.pk, actor)
    _post_returns(cycle.pk, actor)
    after = _counts(cycle.pk)
    posted = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    check([cycle.pk])
    if posted:
        record(
            actor=actor,
            action="reconciliation.ledger.posted",
            obj=cycle,
            area=cycle.area,
            after={"month": f"{cycle.month:%Y-%m}", "entries": sum(posted.values()), "per_kind": posted},
        )
    return posted


def post_all(*, actor=None) -> int:
    """`post_cycle` for every cycle that has an advance or a payout (the demo loader, the
    command `post_ledger --all`); each cycle in its own transaction. Returns the entries posted."""
    cycles = PaymentCycle.objects.filter(pk__in=Advance.objects.values("cycle_id")) | PaymentCycle.objects.filter(
        pk__in=PayrollLine.objects.filter(payout__isnull=False).values("cycle_id")
    )
    return sum(
        sum(post_cycle(actor=actor, cycle=c).values()) for c in cycles.distinct().order_by("month", "pk").iterator()
    )


def _counts(cycle_id: int) -> dict[str, int]:
    out: dict[str, int] = {}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT kind, COUNT(*) FROM {E} WHERE (cycle_id = %s AND adjusts_id IS NULL) OR adjusts_id = %s "  # noqa: S608
            "GROUP BY kind",
            [cycle_id, cycle_id],
        )
        for kind, n in cur.fetchall():
            out[kind] = int(n)
    return out


# --- balances ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """A cycle's money, all in đồng. advance, credited, cash_paid, returned, fees, recoveries,
    failed: sums of its ledger entries (adjustments posted in later ledgers included);
    lines_total and open_lines (lines not credited, paid in cash or returned) from the payroll
    lines; unallocated = advance − lines_total − fees; outstanding = open_lines + unallocated."""

    cycle_id: int
    advance: int = 0
    credited: int = 0
    cash_paid: int = 0
    returned: int = 0
    outstanding: int = 0
    fees: int = 0
    recoveries: int = 0
    lines_total: int = 0
    unallocated: int = 0
    open_lines: int = 0
    failed: int = 0
    entries: int = 0
    closed: bool = False
    differences: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """advance = credited + cash paid + returned + fees + outstanding, and each of the ledger's
        figures equals the lines' (the outstanding comes from the lines)."""
        total = self.credited + self.cash_paid + self.returned + self.fees + self.outstanding
        return self.advance == total and not self.differences

    @property
    def paid(self) -> int:
        return self.credited + self.cash_paid

    def as_dict(self) -> dict:
        return asdict(self)


def advances(cycle_ids: Iterable[int]) -> dict[int, int]:
    """The advance of each cycle as its ledger holds it (what `balances` gives as `advance`, with
    the adjustments later cycles posted to it), from the advance entries alone (indexed by cycle
    and kind): the dashboard's money advanced without summing the cycles' lines."""
    ids = sorted({int(i) for i in cycle_ids})
    out: dict[int, int] = {}
    for chunk in _chunks(ids):
        marks = _in(chunk)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT COALESCE(adjusts_id, cycle_id), COALESCE(SUM(amount), 0) FROM {E} "  # noqa: S608
                f"WHERE kind = %s AND (cycle_id IN ({marks}) OR adjusts_id IN ({marks})) "
                "GROUP BY COALESCE(adjusts_id, cycle_id)",
                [K.ADVANCE, *chunk, *chunk],
            )
            out.update({int(c): int(a) for c, a in cur.fetchall()})
    return {cid: out.get(cid, 0) for cid in ids}


def balances(cycle_ids: Iterable[int]) -> dict[int, Balance]:
    """The balances of many cycles in a few grouped queries (per chunk of cycles)."""
    ids = sorted({int(i) for i in cycle_ids})
    ledger: dict[int, dict[str, int]] = {}
    lines: dict[int, dict[str, int]] = {}
    closed: set[int] = set()
    for chunk in _chunks(ids):
        marks = _in(chunk)
        with connection.cursor() as cur:
            cur.execute(_ledger_sums(f"cycle_id IN ({marks}) OR adjusts_id IN ({marks})"), chunk + chunk)
            names = [c[0] for c in cur.description]
            for row in cur.fetchall():
                ledger[int(row[0])] = {n: int(v) for n, v in zip(names[1:], row[1:], strict=True)}
            cur.execute(_line_sums(f"l.cycle_id IN ({marks})", f"ce.cycle_id IN ({marks})"), chunk + chunk)
            names = [c[0] for c in cur.description]
            for row in cur.fetchall():
                lines[int(row[0])] = {n: int(v) for n, v in zip(names[1:], row[1:], strict=True)}
        closed |= set(LedgerClosing.objects.filter(cycle_id__in=chunk).values_list("cycle_id", flat=True))
    out: dict[int, Balance] = {}
    for cid in ids:
        g = ledger.get(cid, {})
        o = lines.get(cid, {})
        lines_total = o.get("lines_total", 0)
        settled = o.get("credited", 0) + o.get("cash_paid", 0) + o.get("returned", 0)
        open_lines = lines_total - settled
        unallocated = g.get("advance", 0) - lines_total - g.get("fees", 0)
        diff = {}
        if g.get("n"):
            for kind, key in ((K.CREDITED, "credited"), (K.CASH_PAID, "cash_paid"), (K.CASH_RETURNED, "returned")):
                if g.get(key, 0) != o.get(key, 0):
                    diff[kind.value] = g.get(key, 0) - o.get(key, 0)
        out[cid] = Balance(
            cycle_id=cid,
            advance=g.get("advance", 0),
            credited=g.get("credited", 0),
            cash_paid=g.get("cash_paid", 0),
            returned=g.get("returned", 0),
            outstanding=open_lines + unallocated,
            fees=g.get("fees", 0),
            recoveries=g.get("recoveries", 0),
            lines_total=lines_total,
            unallocated=unallocated,
            open_lines=open_lines,
            failed=g.get("failed", 0),
            entries=g.get("n", 0),
            closed=cid in closed,
            differences=diff,
        )
    return out


def balance(cycle: PaymentCycle | int) -> Balance:
    cycle_id = cycle if isinstance(cycle, int) else cycle.pk
    return balances([cycle_id])[cycle_id]


def entries_of(cycle_id: int):
    """The entries posted in the cycle's ledger and the adjustments of it posted in later ones."""
    from django.db.models import Q

    return (
        LedgerEntry.objects.filter(Q(cycle_id=cycle_id) | Q(adjusts_id=cycle_id))
        .select_related("recorded_by", "line__beneficiary", "cycle", "adjusts")
        .order_by("occurred_at", "id")
    )


__all__ = [
    "CHECK_SQL",
    "SQL",
    "Balance",
    "LedgerImbalance",
    "LedgerRefused",
    "balance",
    "balances",
    "check",
    "close_ledger",
    "differences",
    "entries_of",
    "new_payouts_sql",
    "on_advance",
    "on_cash_returned",
    "on_instructions_failed",
    "on_payee_recovery",
    "on_payouts",
    "on_status_job",
    "post_all",
    "post_cycle",
    "post_fee",
]
