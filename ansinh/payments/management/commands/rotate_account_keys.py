"""Re-encrypt every account number with the current key (the first of ANSINH_ACCOUNT_KEYS) and
recompute the lookup hashes with the current hash key. In chunks by primary key, each chunk in
its own transaction with one UPDATE statement; safe to re-run. Prints a JSON summary."""

import json

from django.core.management.base import BaseCommand
from django.db import transaction

from ansinh.audit.services import record
from ansinh.payments import crypto
from ansinh.payments.models import ReceivingAccount


class Command(BaseCommand):
    help = "Re-encrypt receiving-account numbers with the current key (docs/account-keys.md)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=2000)

    def handle(self, *args, chunk: int, **options):
        last = 0
        done = 0
        while True:
            with transaction.atomic():
                rows = list(
                    ReceivingAccount.objects.select_for_update()
                    .filter(pk__gt=last)
                    .order_by("pk")
                    .only("pk", "number_encrypted", "number_hash")[:chunk]
                )
                if not rows:
                    break
                for row in rows:
                    row.number_hash = crypto.number_hash(crypto.decrypt(row.number_encrypted))
                    row.number_encrypted = crypto.rotate(row.number_encrypted)
                ReceivingAccount.objects.bulk_update(rows, ["number_encrypted", "number_hash"])
                done += len(rows)
                last = rows[-1].pk
        with transaction.atomic():
            record(actor=None, action="payments.account_keys.rotated", after={"accounts": done})
        self.stdout.write(json.dumps({"rotated": done}))
