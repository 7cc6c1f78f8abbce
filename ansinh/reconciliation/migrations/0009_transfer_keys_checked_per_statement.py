"""A transfer's line and account checked once per statement and fixed once written (`ledger.SQL`:
recon_money_keys, recon_transfer_keys_fixed), with `disbursement 0012`: the ledger's SQL written
again."""

from django.db import migrations

from ansinh.reconciliation.ledger import install_sql


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0008_money_keys_checked_per_statement"),
        ("disbursement", "0012_transfer_keys_checked_per_statement"),
    ]

    operations = [migrations.RunPython(install_sql, migrations.RunPython.noop)]
