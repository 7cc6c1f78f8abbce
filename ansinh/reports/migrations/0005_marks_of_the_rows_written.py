"""The marks of 0003 joined the rows a statement wrote to whole tables: on PostgreSQL the
transfers' found their month through the payroll lines, a plan over the transition tables that
hashed the whole lines table (twelve million rows a year) for every statement, even one that
changed only whether the payee was notified (0.5 s for each chunk of 2,000 notices at 200,000
lines); the payouts' hashed every beneficiary for the commune each lives in (0.4 s for 100,000
payouts among a million people). Now:

- a payout's beneficiary's commune is looked up for that payout (an index probe per row
  written, whatever the size of the registry);

- the month comes from the transfer's batch (a batch belongs to one cycle, and a transfer's
  batch is always of its line's cycle: `batches.build_batches` and `resolution.settle_hold`
  open the batch of the line's cycle), a few rows to hash;
- on SQLite the update trigger fires only when a column the facts read is in the statement's
  SET list (state, amount, commune, line, batch); PostgreSQL refuses a column list on a trigger
  with transition tables, so there an update of `notified` alone still runs the statement, over
  the changed rows and a few batches only, and marks nothing, as before."""

from django.db import migrations

UPSERT = "ON CONFLICT (commune_id, month) DO UPDATE SET version = reports_stalefact.version + 1"
FLIGHT = "('sent', 'accepted')"
COLUMNS = "state, amount, commune_id, line_id, batch_id"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION reports_mark_payout() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT commune_id, month, 1 FROM (
            SELECT n.commune_id, n.month FROM new_rows n
            UNION SELECT (SELECT b.commune_id FROM registry_beneficiary b WHERE b.id = n.beneficiary_id), n.month
            FROM new_rows n
        ) t WHERE commune_id IS NOT NULL ORDER BY 1, 2 {UPSERT};
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT commune_id, month, 1 FROM (
            SELECT o.commune_id, o.month FROM old_rows o
            UNION SELECT (SELECT b.commune_id FROM registry_beneficiary b WHERE b.id = o.beneficiary_id), o.month
            FROM old_rows o
        ) t WHERE commune_id IS NOT NULL ORDER BY 1, 2 {UPSERT};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION reports_mark_instruction() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT n.commune_id, c.month, 1 FROM new_rows n
        JOIN disbursement_providerbatch b ON b.id = n.batch_id JOIN payroll_paymentcycle c ON c.id = b.cycle_id
        WHERE n.state IN {FLIGHT} ORDER BY 1, 2 {UPSERT};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT o.commune_id, c.month, 1 FROM old_rows o
        JOIN disbursement_providerbatch b ON b.id = o.batch_id JOIN payroll_paymentcycle c ON c.id = b.cycle_id
        WHERE o.state IN {FLIGHT} ORDER BY 1, 2 {UPSERT};
    ELSE
        -- the transfers whose state, amount, commune, line or batch changed while in flight
        -- before or after: the commune and month they had and the ones they have
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT v.commune_id, c.month, 1
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        CROSS JOIN LATERAL (VALUES (n.commune_id, n.batch_id), (o.commune_id, o.batch_id)) AS v (commune_id, batch_id)
        JOIN disbursement_providerbatch b ON b.id = v.batch_id JOIN payroll_paymentcycle c ON c.id = b.cycle_id
        WHERE (n.state IN {FLIGHT} OR o.state IN {FLIGHT})
          AND (n.state <> o.state OR n.amount <> o.amount OR n.commune_id <> o.commune_id
               OR n.line_id <> o.line_id OR n.batch_id <> o.batch_id)
        ORDER BY 1, 2 {UPSERT};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

def _batch_month(row: str) -> str:
    return (
        "(SELECT c.month FROM disbursement_providerbatch b JOIN payroll_paymentcycle c ON c.id = b.cycle_id "
        f"WHERE b.id = {row}.batch_id)"
    )


def _sqlite_mark(row: str, where: str) -> str:
    return (
        "INSERT INTO reports_stalefact (commune_id, month, version) "
        f"SELECT {row}.commune_id, {_batch_month(row)}, 1 WHERE {row}.commune_id IS NOT NULL {where} {UPSERT};"
    )


def _sqlite(columns: str | None) -> list[str]:
    changed = (
        f"AND (NEW.state IN {FLIGHT} OR OLD.state IN {FLIGHT}) AND (NEW.state <> OLD.state OR "
        "NEW.amount <> OLD.amount OR NEW.commune_id <> OLD.commune_id OR NEW.line_id <> OLD.line_id "
        "OR NEW.batch_id <> OLD.batch_id)"
    )
    of = f" OF {columns}" if columns else ""
    return [
        "DROP TRIGGER IF EXISTS reports_mark_instruction_insert;",
        "CREATE TRIGGER reports_mark_instruction_insert AFTER INSERT ON disbursement_instruction FOR EACH ROW BEGIN "
        + _sqlite_mark("NEW", f"AND NEW.state IN {FLIGHT}")
        + " END;",
        "DROP TRIGGER IF EXISTS reports_mark_instruction_delete;",
        "CREATE TRIGGER reports_mark_instruction_delete AFTER DELETE ON disbursement_instruction FOR EACH ROW BEGIN "
        + _sqlite_mark("OLD", f"AND OLD.state IN {FLIGHT}")
        + " END;",
        "DROP TRIGGER IF EXISTS reports_mark_instruction_update;",
        f"CREATE TRIGGER reports_mark_instruction_update AFTER UPDATE{of} ON disbursement_instruction "
        "FOR EACH ROW BEGIN " + _sqlite_mark("NEW", changed) + " " + _sqlite_mark("OLD", changed) + " END;",
    ]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in _sqlite(COLUMNS):
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    """Back to 0003's functions and triggers, written again."""
    from importlib import import_module

    first = import_module("ansinh.reports.migrations.0003_fact_triggers")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(first.PG_CREATE + first._pg_triggers(), params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in first._sqlite_triggers():
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_person_year_fillfactor")]

    operations = [migrations.RunPython(forwards, backwards)]
