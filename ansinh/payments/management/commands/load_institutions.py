"""Load the banks and wallets (policy.yaml `banks.list`) into the maintained list. Idempotent."""

import json

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand

from ansinh.payments.services import load_institutions


class Command(BaseCommand):
    help = "Create or update banks and wallets from the policy file's `banks` list."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(settings.ANSINH_POLICY_FILE))

    def handle(self, *args, file: str, **options):
        with open(file, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        summary = load_institutions(actor=None, entries=data["banks"]["list"])
        self.stdout.write(json.dumps(summary))
