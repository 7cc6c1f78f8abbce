"""Name order served by one b-tree on PostgreSQL: `name_key` in the "C" collation.

`name_key` holds accent-free, lowercase ASCII keys, so byte order is the right order (and the
order SQLite gives with its BINARY collation). In the C collation one plain b-tree on
`(name_key, id)` serves both a prefix search (`LIKE 'key%'` becomes a range condition) and
`ORDER BY name_key, id`: the first page of a name search, or of a whole province, is the first
50 entries of an index range instead of a sort of every matching row (benchmarks/README.md).
Under the database's default collation (e.g. C.UTF-8 or vi_VN) PostgreSQL does not use a plain
b-tree for LIKE, which is why `benef_name_key_idx` was a `varchar_pattern_ops` index; that index
cannot give rows in ORDER BY order, and the new one replaces it.

The collation is set here only (Django's model state does not know it: `db_collation="C"`
would be invalid on SQLite). An AlterField of `Beneficiary.name_key` must keep it: on
PostgreSQL, `ALTER COLUMN … TYPE` without COLLATE falls back to the default collation.
Changing only the collation does not rewrite the table; the indexes on the column are rebuilt
(the (village, name_key) index and the name-tail indexes of 0003), which takes tens of
seconds at a million rows."""

from django.db import migrations, models


def c_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE registry_beneficiary ALTER COLUMN name_key TYPE varchar(150) COLLATE "C"', params=None
    )


def default_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE registry_beneficiary ALTER COLUMN name_key TYPE varchar(150)", params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_name_word_start_indexes")]
    operations = [
        # dropped first, so that the collation change does not rebuild it
        migrations.RemoveIndex(model_name="beneficiary", name="benef_name_key_idx"),
        migrations.RunPython(c_collation, default_collation),
        migrations.AddIndex(
            model_name="beneficiary",
            index=models.Index(fields=["name_key", "id"], name="benef_name_key_id_idx"),
        ),
    ]
