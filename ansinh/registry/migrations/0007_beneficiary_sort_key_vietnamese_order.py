"""Vietnamese name order for the list and the exports: `Beneficiary.sort_key`
(core.text.name_sort_key: the given name first, Vietnamese letter order, tones after the
letters), filled for the existing rows, with a (sort_key, id) b-tree.

As for `name_key` (migration 0004) the column is in the "C" collation on PostgreSQL, set here
only (Django's model state does not know it): the key is ASCII built to be compared byte by
byte, and a plain b-tree in that collation gives `ORDER BY sort_key, id` a page at a time. An
AlterField of `sort_key` must keep COLLATE "C"."""

from django.db import migrations, models

from ansinh.core.text import name_sort_key

CHUNK = 2000


def fill(apps, schema_editor):
    Beneficiary = apps.get_model("registry", "Beneficiary")
    last = 0
    while rows := list(Beneficiary.objects.filter(pk__gt=last).order_by("pk").only("pk", "full_name")[:CHUNK]):
        for b in rows:
            b.sort_key = name_sort_key(b.full_name)
        Beneficiary.objects.bulk_update(rows, ["sort_key"])
        last = rows[-1].pk


def c_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE registry_beneficiary ALTER COLUMN sort_key TYPE varchar(200) COLLATE "C"', params=None
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_beneficiary_legacy_id_number")]
    operations = [
        migrations.AddField(
            model_name="beneficiary",
            name="sort_key",
            field=models.CharField(default="", editable=False, max_length=200),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(c_collation, migrations.RunPython.noop),
        migrations.AlterModelOptions(
            name="beneficiary",
            options={
                "ordering": ["sort_key", "id"],
                "verbose_name": "beneficiary",
                "verbose_name_plural": "beneficiaries",
            },
        ),
        migrations.AddIndex(
            model_name="beneficiary",
            index=models.Index(fields=["sort_key", "id"], name="benef_sort_key_id_idx"),
        ),
    ]
