"""On PostgreSQL, a trigram index makes "a word of the name starts with …" searches fast
(LIKE '% key%'); the prefix search uses the varchar_pattern_ops b-tree. SQLite needs neither."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS benef_name_key_trgm ON registry_beneficiary "
        "USING gin (name_key gin_trgm_ops)",
        params=None,
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS benef_name_key_trgm", params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
