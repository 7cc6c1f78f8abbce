"""On PostgreSQL the database itself refuses to insert, change or delete a payroll line of a cycle
whose payroll is approved (a PayrollApproval row exists): statement-level triggers (AFTER INSERT,
UPDATE, DELETE with transition tables, so a bulk insert of a million draft lines costs one check,
not one per row) on payroll_payrollline raise and the statement is undone. The services refuse
the same on every database (`approval.assert_mutable`, `PayrollLine.save/delete`). TRUNCATE (test
flushes) is not affected."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION payroll_line_immutable() RETURNS trigger AS $$
DECLARE
    hit boolean := false;
BEGIN
    -- each transition table exists only for its events: query it only there
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        hit := EXISTS (SELECT 1 FROM new_rows n JOIN payroll_payrollapproval a ON a.cycle_id = n.cycle_id);
    END IF;
    IF NOT hit AND TG_OP IN ('UPDATE', 'DELETE') THEN
        hit := EXISTS (SELECT 1 FROM old_rows o JOIN payroll_payrollapproval a ON a.cycle_id = o.cycle_id);
    END IF;
    IF hit THEN
        RAISE EXCEPTION 'the lines of an approved payroll are immutable (%)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS payroll_line_immutable_insert ON payroll_payrollline;
DROP TRIGGER IF EXISTS payroll_line_immutable_update ON payroll_payrollline;
DROP TRIGGER IF EXISTS payroll_line_immutable_delete ON payroll_payrollline;
CREATE TRIGGER payroll_line_immutable_insert AFTER INSERT ON payroll_payrollline
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payroll_line_immutable();
CREATE TRIGGER payroll_line_immutable_update AFTER UPDATE ON payroll_payrollline
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payroll_line_immutable();
CREATE TRIGGER payroll_line_immutable_delete AFTER DELETE ON payroll_payrollline
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payroll_line_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS payroll_line_immutable_insert ON payroll_payrollline;
DROP TRIGGER IF EXISTS payroll_line_immutable_update ON payroll_payrollline;
DROP TRIGGER IF EXISTS payroll_line_immutable_delete ON payroll_payrollline;
DROP FUNCTION IF EXISTS payroll_line_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("payroll", "0004_cycle_money")]

    operations = [migrations.RunPython(forwards, backwards)]
