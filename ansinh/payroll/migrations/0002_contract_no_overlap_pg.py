"""On PostgreSQL the database itself refuses two provider contracts of the same paying unit and
purpose whose periods overlap (an exclusion constraint over integer and date ranges, which GiST
indexes natively: no extension needed). The service checks the same on every database."""

from django.db import migrations

CREATE = """
ALTER TABLE payroll_providercontract ADD CONSTRAINT payroll_contract_no_overlap EXCLUDE USING gist (
    int8range(paying_unit_id, paying_unit_id, '[]') WITH &&,
    int4range(CASE purpose WHEN 'regular' THEN 0 ELSE 1 END, CASE purpose WHEN 'regular' THEN 0 ELSE 1 END, '[]') WITH &&,
    daterange(valid_from, valid_to, '[]') WITH &&
)
"""
DROP = "ALTER TABLE payroll_providercontract DROP CONSTRAINT IF EXISTS payroll_contract_no_overlap"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("payroll", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
