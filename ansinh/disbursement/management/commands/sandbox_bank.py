"""python manage.py sandbox_bank FILE --out FILE [--seed S] [--no-delays] [--status MESSAGE_ID]

The sandbox bank: answers a pain.001 (FILE) with a pain.002 (--out), deterministically from the
seed (see ansinh.disbursement.sandbox). With --status it answers a status query for a message it
received before instead. Only while the sandbox is enabled (ANSINH_BANK_GATEWAY=sandbox)."""

import dataclasses
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ansinh.disbursement import sandbox


class Command(BaseCommand):
    help = "Answer a pain.001 with the sandbox bank's pain.002."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the pain.001 received")
        parser.add_argument("--out", required=True, help="where the pain.002 goes")
        parser.add_argument("--seed", default=None)
        parser.add_argument("--no-delays", action="store_true", help="answer every transfer at once")
        parser.add_argument("--status", default=None, metavar="MESSAGE_ID", help="answer a status query")

    def handle(self, *args, file, out, seed, no_delays, status, **options):
        if not sandbox.enabled():
            raise CommandError("the sandbox bank is not enabled (ANSINH_BANK_GATEWAY is not 'sandbox')")
        base = sandbox.default_options()
        opts = dataclasses.replace(base, seed=seed or base.seed, delays=base.delays and not no_delays)
        target = Path(out)
        if status:
            with target.open("wb") as f:
                found = sandbox.status_report(status, f)
            if not found:
                target.unlink(missing_ok=True)
                raise CommandError(f"the sandbox bank never received message {status}")
        else:
            if not file:
                raise CommandError("give the pain.001 file (or --status MESSAGE_ID)")
            try:
                with target.open("wb") as f:
                    sandbox.receive(Path(file), f, options=opts)
            except sandbox.SandboxRefused as exc:
                target.unlink(missing_ok=True)
                raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps({"out": str(target), "bytes": target.stat().st_size}))
