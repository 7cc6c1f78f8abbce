"""Payouts carry their line's month, beneficiary, commune and line type (copied when written), so
that the statutory reports and the dashboard count payouts without joining the payroll lines;
existing payouts are filled from their lines (one UPDATE)."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "UPDATE disbursement_payout AS p SET month = c.month, beneficiary_id = l.beneficiary_id, "
                "commune_id = l.commune_id, line_type = l.line_type "
                "FROM payroll_payrollline AS l JOIN payroll_paymentcycle AS c ON c.id = l.cycle_id "
                "WHERE l.id = p.line_id"
            )
        else:
            cur.execute(
                "UPDATE disbursement_payout SET "
                "month = (SELECT c.month FROM payroll_payrollline l JOIN payroll_paymentcycle c "
                "ON c.id = l.cycle_id WHERE l.id = disbursement_payout.line_id), "
                "beneficiary_id = (SELECT l.beneficiary_id FROM payroll_payrollline l "
                "WHERE l.id = disbursement_payout.line_id), "
                "commune_id = (SELECT l.commune_id FROM payroll_payrollline l WHERE l.id = disbursement_payout.line_id), "
                "line_type = (SELECT l.line_type FROM payroll_payrollline l WHERE l.id = disbursement_payout.line_id)"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("disbursement", "0003_status_import_applied_once"),
        ("payroll", "0001_initial"),
        ("registry", "0001_initial"),
        ("areas", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="payout",
            name="month",
            field=models.DateField(editable=False, null=True, verbose_name="month"),
        ),
        migrations.AddField(
            model_name="payout",
            name="beneficiary",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.beneficiary",
            ),
        ),
        migrations.AddField(
            model_name="payout",
            name="commune",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="areas.area",
            ),
        ),
        migrations.AddField(
            model_name="payout",
            name="line_type",
            field=models.CharField(editable=False, max_length=10, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="payout",
            name="month",
            field=models.DateField(editable=False, verbose_name="month"),
        ),
        migrations.AlterField(
            model_name="payout",
            name="beneficiary",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.beneficiary",
            ),
        ),
        migrations.AlterField(
            model_name="payout",
            name="commune",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="areas.area",
            ),
        ),
        migrations.AlterField(
            model_name="payout",
            name="line_type",
            field=models.CharField(editable=False, max_length=10),
        ),
        migrations.AddIndex(
            model_name="payout",
            index=models.Index(fields=["month", "channel"], name="disb_payout_month_channel"),
        ),
    ]
