"""Triggers that mark the reports' aggregate tables stale (ansinh.reports.facts) on every write to
the tables they are computed from, whatever the path:

- a payout: its (commune, month) and its beneficiary's (commune, month);
- a transfer that is, was or becomes in flight (sent or accepted): its (commune, month);
- a payroll line: its (commune, month);
- a beneficiary inserted, deleted, or whose commune, start or last month changes: the commune,
  whole (its groups and every month);
- a receiving account inserted, deleted, or whose beneficiary, status or opening day changes: its
  beneficiary's commune, whole.

PostgreSQL: statement-level triggers with transition tables (a bulk write of a million rows
costs one grouped INSERT, not a million); SQLite: row-level triggers. A mark that exists already
gets its version raised (ansinh.reports.models.StaleFact). Every existing commune is marked whole
here: the first `refresh()` (or `manage.py refresh_facts`) computes the facts of existing data."""

from django.db import migrations

WHOLE = "0001-01-01"
UPSERT = "ON CONFLICT (commune_id, month) DO UPDATE SET version = reports_stalefact.version + 1"
FLIGHT = "('sent', 'accepted')"

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION reports_mark_payout() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT commune_id, month, 1 FROM (
            SELECT n.commune_id, n.month FROM new_rows n
            UNION SELECT b.commune_id, n.month FROM new_rows n JOIN registry_beneficiary b ON b.id = n.beneficiary_id
        ) t ORDER BY 1, 2 {UPSERT};
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT commune_id, month, 1 FROM (
            SELECT o.commune_id, o.month FROM old_rows o
            UNION SELECT b.commune_id, o.month FROM old_rows o JOIN registry_beneficiary b ON b.id = o.beneficiary_id
        ) t ORDER BY 1, 2 {UPSERT};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION reports_mark_instruction() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT n.commune_id, c.month, 1 FROM new_rows n
        JOIN payroll_payrollline l ON l.id = n.line_id JOIN payroll_paymentcycle c ON c.id = l.cycle_id
        WHERE n.state IN {FLIGHT} ORDER BY 1, 2 {UPSERT};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT o.commune_id, c.month, 1 FROM old_rows o
        JOIN payroll_payrollline l ON l.id = o.line_id JOIN payroll_paymentcycle c ON c.id = l.cycle_id
        WHERE o.state IN {FLIGHT} ORDER BY 1, 2 {UPSERT};
    ELSE
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT commune_id, month, 1 FROM (
            SELECT n.commune_id, c.month FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN payroll_payrollline l ON l.id = n.line_id JOIN payroll_paymentcycle c ON c.id = l.cycle_id
            WHERE (n.state IN {FLIGHT} OR o.state IN {FLIGHT})
              AND (n.state <> o.state OR n.amount <> o.amount OR n.commune_id <> o.commune_id OR n.line_id <> o.line_id)
            UNION
            SELECT o.commune_id, c.month FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN payroll_payrollline l ON l.id = o.line_id JOIN payroll_paymentcycle c ON c.id = l.cycle_id
            WHERE (n.state IN {FLIGHT} OR o.state IN {FLIGHT})
              AND (n.state <> o.state OR n.amount <> o.amount OR n.commune_id <> o.commune_id OR n.line_id <> o.line_id)
        ) t ORDER BY 1, 2 {UPSERT};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION reports_mark_line() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT n.commune_id, c.month, 1 FROM new_rows n JOIN payroll_paymentcycle c ON c.id = n.cycle_id
        ORDER BY 1, 2 {UPSERT};
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT o.commune_id, c.month, 1 FROM old_rows o JOIN payroll_paymentcycle c ON c.id = o.cycle_id
        ORDER BY 1, 2 {UPSERT};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION reports_mark_beneficiary() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT n.commune_id, DATE '{WHOLE}', 1 FROM new_rows n ORDER BY 1 {UPSERT};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT o.commune_id, DATE '{WHOLE}', 1 FROM old_rows o ORDER BY 1 {UPSERT};
    ELSE
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT commune_id, DATE '{WHOLE}', 1 FROM (
            SELECT n.commune_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.commune_id <> o.commune_id OR n.start_month <> o.start_month
               OR n.end_month IS DISTINCT FROM o.end_month
            UNION
            SELECT o.commune_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.commune_id <> o.commune_id OR n.start_month <> o.start_month
               OR n.end_month IS DISTINCT FROM o.end_month
        ) t ORDER BY 1 {UPSERT};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION reports_mark_account() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT b.commune_id, DATE '{WHOLE}', 1 FROM new_rows n
        JOIN registry_beneficiary b ON b.id = n.beneficiary_id ORDER BY 1 {UPSERT};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT DISTINCT b.commune_id, DATE '{WHOLE}', 1 FROM old_rows o
        JOIN registry_beneficiary b ON b.id = o.beneficiary_id ORDER BY 1 {UPSERT};
    ELSE
        INSERT INTO reports_stalefact (commune_id, month, version)
        SELECT commune_id, DATE '{WHOLE}', 1 FROM (
            SELECT b.commune_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN registry_beneficiary b ON b.id = n.beneficiary_id
            WHERE n.beneficiary_id <> o.beneficiary_id OR n.status <> o.status
               OR n.opened_on IS DISTINCT FROM o.opened_on
            UNION
            SELECT b.commune_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN registry_beneficiary b ON b.id = o.beneficiary_id
            WHERE n.beneficiary_id <> o.beneficiary_id OR n.status <> o.status
               OR n.opened_on IS DISTINCT FROM o.opened_on
        ) t ORDER BY 1 {UPSERT};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

TABLES = {
    "payout": "disbursement_payout",
    "instruction": "disbursement_instruction",
    "line": "payroll_payrollline",
    "beneficiary": "registry_beneficiary",
    "account": "payments_receivingaccount",
}


def _pg_triggers() -> str:
    out = []
    for name, table in TABLES.items():
        fn = f"reports_mark_{name}()"
        out.append(
            f"DROP TRIGGER IF EXISTS reports_mark_{name}_insert ON {table};\n"
            f"DROP TRIGGER IF EXISTS reports_mark_{name}_update ON {table};\n"
            f"DROP TRIGGER IF EXISTS reports_mark_{name}_delete ON {table};\n"
            f"CREATE TRIGGER reports_mark_{name}_insert AFTER INSERT ON {table}\n"
            f"    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn};\n"
            f"CREATE TRIGGER reports_mark_{name}_update AFTER UPDATE ON {table}\n"
            f"    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn};\n"
            f"CREATE TRIGGER reports_mark_{name}_delete AFTER DELETE ON {table}\n"
            f"    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn};\n"
        )
    return "\n".join(out)


def _pg_drop() -> str:
    out = []
    for name, table in TABLES.items():
        for event in ("insert", "update", "delete"):
            out.append(f"DROP TRIGGER IF EXISTS reports_mark_{name}_{event} ON {table};")
        out.append(f"DROP FUNCTION IF EXISTS reports_mark_{name}();")
    return "\n".join(out)


def _mark(commune: str, month: str, where: str = "") -> str:
    """One SQLite INSERT of a mark (`commune`, `month` are SQL expressions over NEW/OLD)."""
    return (
        f"INSERT INTO reports_stalefact (commune_id, month, version) SELECT {commune}, {month}, 1 "
        f"WHERE {commune} IS NOT NULL {where} {UPSERT};"
    )


def _line_month(row: str) -> str:
    return (
        "(SELECT c.month FROM payroll_payrollline l JOIN payroll_paymentcycle c ON c.id = l.cycle_id "
        f"WHERE l.id = {row}.line_id)"
    )


def _cycle_month(row: str) -> str:
    return f"(SELECT c.month FROM payroll_paymentcycle c WHERE c.id = {row}.cycle_id)"


def _commune_of(row: str) -> str:
    return f"(SELECT b.commune_id FROM registry_beneficiary b WHERE b.id = {row}.beneficiary_id)"


def _sqlite_triggers() -> list[str]:
    whole = f"'{WHOLE}'"
    changed_flight = (
        f"AND (NEW.state IN {FLIGHT} OR OLD.state IN {FLIGHT}) AND (NEW.state <> OLD.state OR "
        "NEW.amount <> OLD.amount OR NEW.commune_id <> OLD.commune_id OR NEW.line_id <> OLD.line_id)"
    )
    changed_person = (
        "AND (NEW.commune_id <> OLD.commune_id OR NEW.start_month <> OLD.start_month "
        "OR NEW.end_month IS NOT OLD.end_month)"
    )
    changed_account = (
        "AND (NEW.beneficiary_id <> OLD.beneficiary_id OR NEW.status <> OLD.status "
        "OR NEW.opened_on IS NOT OLD.opened_on)"
    )
    bodies = {
        ("payout", "INSERT"): [_mark("NEW.commune_id", "NEW.month"), _mark(_commune_of("NEW"), "NEW.month")],
        ("payout", "DELETE"): [_mark("OLD.commune_id", "OLD.month"), _mark(_commune_of("OLD"), "OLD.month")],
        ("payout", "UPDATE"): [
            _mark("NEW.commune_id", "NEW.month"),
            _mark(_commune_of("NEW"), "NEW.month"),
            _mark("OLD.commune_id", "OLD.month"),
            _mark(_commune_of("OLD"), "OLD.month"),
        ],
        ("instruction", "INSERT"): [_mark("NEW.commune_id", _line_month("NEW"), f"AND NEW.state IN {FLIGHT}")],
        ("instruction", "DELETE"): [_mark("OLD.commune_id", _line_month("OLD"), f"AND OLD.state IN {FLIGHT}")],
        ("instruction", "UPDATE"): [
            _mark("NEW.commune_id", _line_month("NEW"), changed_flight),
            _mark("OLD.commune_id", _line_month("OLD"), changed_flight),
        ],
        ("line", "INSERT"): [_mark("NEW.commune_id", _cycle_month("NEW"))],
        ("line", "DELETE"): [_mark("OLD.commune_id", _cycle_month("OLD"))],
        ("line", "UPDATE"): [_mark("NEW.commune_id", _cycle_month("NEW")), _mark("OLD.commune_id", _cycle_month("OLD"))],
        ("beneficiary", "INSERT"): [_mark("NEW.commune_id", whole)],
        ("beneficiary", "DELETE"): [_mark("OLD.commune_id", whole)],
        ("beneficiary", "UPDATE"): [
            _mark("NEW.commune_id", whole, changed_person),
            _mark("OLD.commune_id", whole, changed_person),
        ],
        ("account", "INSERT"): [_mark(_commune_of("NEW"), whole)],
        ("account", "DELETE"): [_mark(_commune_of("OLD"), whole)],
        ("account", "UPDATE"): [
            _mark(_commune_of("NEW"), whole, changed_account),
            _mark(_commune_of("OLD"), whole, changed_account),
        ],
    }
    out = []
    for (name, event), statements in bodies.items():
        trigger = f"reports_mark_{name}_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {trigger};")
        out.append(
            f"CREATE TRIGGER {trigger} AFTER {event} ON {TABLES[name]} FOR EACH ROW BEGIN "
            + " ".join(statements)
            + " END;"
        )
    return out


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE + _pg_triggers(), params=None)
    else:
        for statement in _sqlite_triggers():
            schema_editor.execute(statement, params=None)
    # every existing commune: computed by the first refresh
    whole = f"DATE '{WHOLE}'" if connection.vendor == "postgresql" else f"'{WHOLE}'"
    schema_editor.execute(
        "INSERT INTO reports_stalefact (commune_id, month, version) "
        f"SELECT commune_id, {whole}, 1 FROM (SELECT commune_id FROM registry_beneficiary "
        "UNION SELECT commune_id FROM disbursement_payout UNION SELECT commune_id FROM payroll_payrollline) t "
        "WHERE commune_id IS NOT NULL",
        params=None,
    )


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(_pg_drop(), params=None)
    else:
        for name, event in [(n, e) for n in TABLES for e in ("insert", "update", "delete")]:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS reports_mark_{name}_{event};", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_facts"),
        ("disbursement", "0005_fact_indexes"),
        ("payments", "0003_account_changes"),
        ("payroll", "0006_providercontract_provider_account_number_and_more"),
        ("registry", "0009_statuschange_month_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
