"""On PostgreSQL the people's months (reports_personyearfact) leave room on each page: a refresh
sets or clears a month's bit in place (a heap-only update, no index written), once a month for
each person paid."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE reports_personyearfact SET (fillfactor = 70)", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE reports_personyearfact RESET (fillfactor)", params=None)


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_fact_triggers")]

    operations = [migrations.RunPython(forwards, backwards)]
