"""Load the demo: policy, An Giang's pre-2025 area tree, organisations, villages, one user per
role and a synthetic registry (4,065 beneficiaries in Châu Đốc, 5,605 in Tịnh Biên).
Idempotent: a second run changes nothing.

With `--size N --province CODE` it instead tops a province up to N synthetic beneficiaries
for benchmarks (see benchmarks/README.md)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level, Tree
from ansinh.areas.services import current_units, load_current_tree, load_legacy_province, official_code
from ansinh.demo import organisations
from ansinh.demo import registry as demo_registry
from ansinh.policy.services import load_policy


class Command(BaseCommand):
    help = (
        "Load the demo data (idempotent) and print the demo logins. With --size N --province CODE, "
        "top that province up to N synthetic beneficiaries for benchmarks instead, generated and written "
        "in chunks (one transaction each) in bounded memory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the logins")
        parser.add_argument(
            "--size", type=int, help="benchmark mode: total number of synthetic beneficiaries wanted in --province"
        )
        parser.add_argument("--province", help="benchmark mode: province code, e.g. 91 (current) or 89 (legacy)")
        parser.add_argument(
            "--tree",
            choices=("auto", "current", "legacy"),
            default="auto",
            help="which tree --province is in; auto: current if the code is one of the 34 provinces since "
            "2025-07-01, else legacy (use --tree legacy for e.g. Kiên Giang 91 before 2025)",
        )
        parser.add_argument("--chunk", type=int, default=10_000, help="benchmark mode: rows per transaction")
        parser.add_argument(
            "--row-audit",
            action="store_true",
            help="benchmark mode: write one audit event per beneficiary and representation, as an import "
            "does. Off by default: synthetic bulk data gets one summary audit event per chunk "
            "(demo.registry.synthetic_loaded), because for a million rows per-row events double the write.",
        )

    def handle(self, *args, **options):
        if options["size"] is not None or options["province"]:
            return self._synthetic(options)
        started = time.monotonic()
        load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)
        load_legacy_province(actor=None, code=organisations.PROVINCE_CODE)
        organisations.load_organisations()
        with transaction.atomic():
            demo_registry.pilot_villages()  # before the users: the village head gets a village
        logins = organisations.load_users()
        result = demo_registry.load_demo_registry(actor=None)
        self.stdout.write(
            _("Demo registry: %(created)s beneficiaries created (%(seconds).1f s in total).")
            % {"created": f"{result['created']:,}", "seconds": time.monotonic() - started}
        )
        if options["quiet_logins"]:
            return
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s)") % {"password": organisations.DEMO_PASSWORD})
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username.ljust(width)}  {login.role} — {login.area}")
        self.stdout.write("")

    def _synthetic(self, options):
        size, code = options["size"], options["province"]
        if size is None or not code:
            raise CommandError("--size and --province go together")
        if size < 0 or options["chunk"] < 1:
            raise CommandError("--size must be ≥ 0 and --chunk ≥ 1")
        code = official_code(Level.PROVINCE, code)
        tree = options["tree"]
        if tree == "auto":
            current = {u.code for u in current_units() if u.level == Level.PROVINCE}
            tree = Tree.CURRENT if code in current else Tree.LEGACY
        started = time.monotonic()
        load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)
        if not Area.objects.filter(tree=tree, level=Level.PROVINCE, code=code).exists():
            self.stdout.write(f"loading the {tree} tree for province {code} …")
            if tree == Tree.CURRENT:
                load_current_tree(actor=None)
            else:
                load_legacy_province(actor=None, code=code)
        province = Area.objects.get(tree=tree, level=Level.PROVINCE, code=code)
        result = demo_registry.load_synthetic(
            province=province,
            size=size,
            chunk=options["chunk"],
            audit_rows=options["row_audit"],
            progress=self.stdout.write,
        )
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"created {result['created']:,} beneficiaries in {province.full_name} ({tree} tree) "
            f"in {elapsed:.1f} s ({result['created'] / max(elapsed, 1e-9):,.0f} rows/s)"
        )
