"""Indexes of the registry's beneficiaries for the worklist refresh of one commune (what the
worklist page runs on every visit), created here because only the worklist needs them (the
registry's model state does not list them; plain SQL, hence no model change to detect):

- (accent-free name, date of birth): "same name and date of birth" looks up each of the
  commune's people in the province through it instead of aggregating the whole province
  (quality.services.duplicate_name); on PostgreSQL it also covers id, status and area path, so
  the look-up reads no table page;
- on PostgreSQL, the area path covering the columns the rules read (id, status, commune, CCCD,
  date of birth, gender, phone, name key): the commune's rows are read by an index-only scan
  instead of a heap page per person, once per kind;
- on PostgreSQL, the CCCD covering id, status, stop reason and sort key: "same CCCD" looks up
  the other record without reading the table."""

from django.db import migrations

NAME_BIRTH = "benef_name_key_birth_idx"
COVER = "benef_area_cover_idx"
CCCD = "benef_cccd_cover_idx"


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME_BIRTH} ON registry_beneficiary (name_key, birth_date)"
            + (" INCLUDE (id, status, area_path)" if postgres else "")
        )
        if postgres:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {COVER} ON registry_beneficiary (area_path varchar_pattern_ops) "
                "INCLUDE (id, status, commune_id, cccd, birth_date, gender, phone, no_phone, name_key)"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {CCCD} ON registry_beneficiary (cccd) "
                "INCLUDE (id, status, stop_reason, sort_key)"
            )


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name in (NAME_BIRTH, COVER, CCCD):
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0001_initial"),
        ("registry", "0009_statuschange_month_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
