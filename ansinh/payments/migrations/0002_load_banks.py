"""The maintained list of banks and wallets starts from the policy file's `banks` list (NAPAS
BINs and short codes; its source is noted there). Admins edit it afterwards; the command
`load_institutions` re-reads the file."""

import yaml
from django.conf import settings
from django.db import migrations


def load(apps, schema_editor):
    Institution = apps.get_model("payments", "Institution")
    try:
        with open(settings.ANSINH_POLICY_FILE, encoding="utf-8") as fh:
            entries = (yaml.safe_load(fh) or {}).get("banks", {}).get("list", [])
    except OSError:
        return
    for entry in entries:
        wallet = bool(entry.get("wallet"))
        Institution.objects.get_or_create(
            code=str(entry["code"]),
            defaults={
                "bin": str(entry["bin"]),
                "name": str(entry["name"]),
                "kind": "wallet" if wallet else "bank",
                "number_min_length": 10 if wallet else 6,
                "number_max_length": 10 if wallet else 19,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_payment_methods_and_accounts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
