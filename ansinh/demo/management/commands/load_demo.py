"""Load the demo: policy, An Giang's pre-2025 area tree with the pilot's organisations, villages
and a synthetic registry (4,065 beneficiaries in Châu Đốc, 5,605 in Tịnh Biên receiving in
September 2023, a few more decided later; the pilot months July–September 2023 give the unit rows
of report 3010/BC-SLĐTBXH: docs/pilot-report-2023.md), then the 2025 reform: the current tree,
the checked succession of An Giang (89 → 91) and the reform transition, after which the demo
lives in current An Giang (91) with the current organisations and one user per role on
current-tree areas. Idempotent: a second run changes nothing.

With `--size N --province CODE` it instead tops a province up to N synthetic beneficiaries
for benchmarks (see benchmarks/README.md)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from ansinh.applications.demo import load_demo_applications
from ansinh.areas import succession
from ansinh.areas.models import Area, Level, Tree
from ansinh.areas.services import current_units, load_current_tree, load_legacy_province, official_code
from ansinh.cashout.demo import load_demo_cash
from ansinh.complaints.demo import load_demo_cash_complaints, load_demo_complaints
from ansinh.core.text import format_number
from ansinh.demo import organisations
from ansinh.demo import registry as demo_registry
from ansinh.disbursement.demo import load_demo_transfers
from ansinh.openings.demo import load_demo_openings
from ansinh.payments.demo import load_demo_payments, load_synthetic_payments
from ansinh.payments.demo_approvals import DEMO_TOTP_SECRET, load_demo_account_changes
from ansinh.payroll.demo import load_demo_cycles
from ansinh.policy.services import load_policy
from ansinh.quality.demo import load_demo_worklists
from ansinh.reform import services as reform
from ansinh.verification.demo import load_demo_verification


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
        load_current_tree(actor=None)
        succession.load_from_file(actor=None)
        legacy_province = Area.objects.get(tree=Tree.LEGACY, level=Level.PROVINCE, code=organisations.PROVINCE_CODE)
        result = {"created": 0}
        if not reform.transition_applied(legacy_province):
            # The history: the pilot (2023 onwards) in the pre-2025 tree, then the 2025 reform.
            organisations.load_organisations()
            with transaction.atomic():
                demo_registry.pilot_villages()
            result = demo_registry.load_demo_registry(actor=None)
            reform.apply_transition(actor=None, province=legacy_province)
        organisations.load_current_organisations()
        logins = organisations.load_current_users()
        # applications for the allowance in every state, one decided into the registry: before the
        # steps that read the registry (verification, payment methods, cycles) take it in
        load_demo_applications()
        load_demo_verification()  # synthetic population register and first runs (idempotent)
        load_demo_payments()  # payment methods, receiving accounts, deliberate problems (idempotent)
        load_demo_account_changes()  # account changes awaiting the approver's TOTP code
        load_demo_openings()  # account-opening requests in flight and one answered batch
        load_demo_cycles()  # provider contracts, the cycles of the 2023 pilot and of the last three months, this month
        load_demo_transfers()  # the funded cycles sent through the sandbox bank: answers, SMS, exceptions
        # pay points, routes, days; the funded cycles' cash lists, receipts, closings, withdrawals
        cash = load_demo_cash()
        complaints = load_demo_complaints()  # complaints and feedback in every state, one linked to a rejected transfer
        complaints += load_demo_cash_complaints()  # about the cash pay-out, linked to its records
        from ansinh.reconciliation.ledger import post_all

        post_all()  # the paid cycles' ledgers: what a loader wrote without the services' hooks (idempotent)
        # the sandbox bank's statements of the funded accounts imported, the cycles' reconciliation checks run
        from ansinh.reconciliation.demo import load_demo_statements

        load_demo_statements()
        # the past months' paid cycles settled by the provider and accepted by the office, the older
        # ones settled with the finance office (idempotent)
        from ansinh.reconciliation.settlement_demo import load_demo_settlements

        load_demo_settlements()
        load_demo_worklists()  # data-quality worklists of the demo communes, after everything above
        from ansinh.reports.facts import refresh

        refresh()  # the reports' aggregate tables for what the demo wrote (the first page does not wait)
        self.stdout.write(
            _(
                "Demo cash pay-out: %(lists)s cash lists, %(paid)s payments recorded, %(withdrawals)s withdrawals "
                "at pay points; %(complaints)s complaints added (%(seconds)s s)."
            )
            % {
                "lists": format_number(cash.get("cash_lists", 0)),
                "paid": format_number(cash.get("receipts_paid", 0)),
                "withdrawals": format_number(cash.get("withdrawals_served", 0) + cash.get("withdrawals_cannot", 0)),
                "complaints": format_number(complaints),
                "seconds": format_number(cash.get("seconds", 0), 1),
            }
        )
        self.stdout.write(
            _("Demo registry: %(created)s beneficiaries created (%(seconds)s s in total).")
            % {
                "created": format_number(result["created"]),
                "seconds": format_number(time.monotonic() - started, 1),
            }
        )
        if options["quiet_logins"]:
            return
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s)") % {"password": organisations.DEMO_PASSWORD})
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username.ljust(width)}  {login.role} — {login.area}")
        self.stdout.write(
            _("Authenticator (TOTP) key of %(user)s, to approve account changes and payrolls: %(key)s")
            % {"user": "lanhdao.phong", "key": DEMO_TOTP_SECRET}
        )
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
        # payment methods and ~15% accounts for the worklist benchmark (only people without one)
        pay = load_synthetic_payments(code, tree=tree, chunk=options["chunk"], progress=self.stdout.write)
        self.stdout.write(
            f"payment methods: {pay.get('methods', 0):,}, accounts: {pay.get('accounts', 0):,} "
            f"in {pay['seconds']:.1f} s (encryption {pay['encrypt_seconds']:.1f} s)"
        )
