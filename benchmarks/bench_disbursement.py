"""The transfer leg at scale (issue 11 part 8), on PostgreSQL, through the real services of
`ansinh.disbursement`.

The world is synthetic and its own (province BENCHDISB, current tree, 20 communes of 5 villages,
in a database of its own: BENCH_DATABASE_URL, default ansinh_bench_disb): beneficiaries written
set-based (INSERT … SELECT generate_series, chunks of 100,000; 5 % without a phone, 3 % who
cannot read Vietnamese, 0.1 % who died before the month of the end-to-end cycle, a stop recorded
after approval), one bank account each with a real encrypted number and keyed hash
(`payments.crypto.encrypt_many` / `hash_many`, written by COPY: the sandbox bank finds accounts by
their hash), a province department that approves, a post office that pays, and a contract with
the provider's funded account. Two cycles: one of --size account-channel lines ("funded"), one of
--import-size lines whose batch is already with the bank. Lines, approvals (`approval.
content_hash`) and states are set directly (setup, not timed); a database that has them is reused
(--fresh drops it and starts again).

Measured:
  1. end to end (--size, default 100,000): build_batches → submit_batch with the sandbox bank
     (delays off, validation on): the pain.001 written (XSD-valid), the sandbox validates it,
     decides and answers a pain.002, which is imported and reconciled (payouts, exceptions,
     notices queued, batch and cycle states). Each stage's wall time (the services' functions
     timed in place), the total, disbursements/s against OpenG2P G2P Bridge 1.1.0 (52–61/s).
     Target: under 20 s, ≥ 5,000/s. Checked: one instruction per line, credited = paid.
  2. pain.001 of --size transfers written and XSD-validated (`pain001.write` + `pain001.validate`)
     in a fresh process each (peak memory: the process's VmHWM; target < 300 MB), against a floor in the
     same run, also in its own process: lxml writing the same elements (a transaction built as
     an element and serialised by `etree.xmlfile`) and lxml validating it (`iterparse` with the
     schema, summing the amounts). Target: (write + validate) ≤ 2.0 × the floor's. The re-export
     of the end-to-end batch through `batches.write_file` (database, decryption) is measured in a
     fresh process too (memory).
  3. pain.002 import of --import-size statuses (default 1,000,000; written by `pain002.write`) by
     `statuses.import_status`, job rows included, against a floor in the same run: the same file
     parsed by lxml's streaming parser with the schema (`iterparse`), COPY into a staging table
     (end_to_end_id, status, amount), one UPDATE … FROM into the real instruction table, in a
     transaction rolled back. Target ≤ 2.0 × the floor. The notices the import queues (SMS, or
     the village head's list) are timed on their own and shown as a share.

  BENCH_DATABASE_URL=postgres://…/ansinh_bench_disb python benchmarks/bench_disbursement.py
  [--size 100000] [--import-size 1000000] [--fresh] [--skip-import-notices] [--strict] [--json FILE]
  (--strict: exit 1 when a target is missed)
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ansinh_bench_disb"
CODE = "BENCHDISB"
COMMUNES, VILLAGES = 20, 5
CHUNK = 100_000
E2E_MONTH = date(2026, 5, 1)  # the end-to-end cycle
IMPORT_MONTH = date(2026, 4, 1)  # the cycle whose batch is with the bank (the 1,000,000 statuses)
DEATH = date(2026, 3, 15)  # 0.1 % died before the end-to-end month: their transfer is held
TARGET_S, TARGET_RATE, TARGET_MB, TARGET_WRITE, TARGET_IMPORT = 20.0, 5_000, 300, 2.0, 2.0
OPENG2P = (52, 61)  # G2P Bridge 1.1.0: 10,000 disbursements reconciled in 165–191 s
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DISB_TABLES = (
    "disbursement_transferexception",
    "disbursement_payout",
    "disbursement_statusimportrow",
    "disbursement_statusimport",
    "disbursement_exportedfile",
    "disbursement_instruction",
    "disbursement_providerbatch",
    "disbursement_sandboxtransfer",
    "disbursement_sandboxmessage",
    # the ledger entries the imports posted (a TRUNCATE: the append-only trigger guards rows, and
    # the cycles' payouts, which the entries stand for, go with the tables above)
    "reconciliation_ledgerentry",
)


def _url(given: str | None) -> str:
    url = given or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"the benchmark needs PostgreSQL; the URL is {url!r}")
    if "bench" not in urlsplit(url).path:
        # the script empties the disbursement tables and the transfer notices of its database
        raise SystemExit(f"use a benchmark database of its own (a name with 'bench'), not {url!r}")
    return url


def _sql(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else cur.rowcount


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _hwm() -> int:
    """The peak resident memory of this process image (VmHWM). In a child started by exec,
    ru_maxrss is not the child's own: Linux carries it over the exec from the forked parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return _rss()


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - started, out


# --- timing the services' stages in place ----------------------------------------------------------


class Stages:
    """Wall time spent in named functions of the services, wrapped for one measured run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.active: dict[str, int] = {}
        self._undo: list[tuple[object, str, object]] = []

    def add(self, label: str, seconds: float) -> None:
        self.seconds[label] = self.seconds.get(label, 0.0) + seconds

    def wrap(self, owner, name: str, label: str) -> None:
        """Time `owner.name` under `label`; a label "A @ B" counts only the calls made while B runs."""
        original = getattr(owner, name)
        label, _, inside = label.partition(" @ ")

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if inside and inside not in self.active:
                return original(*args, **kwargs)
            self.active[label] = self.active.get(label, 0) + 1
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - started)
                self.active[label] -= 1
                if not self.active[label]:
                    del self.active[label]

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def wrap_iter(self, owner, name: str, label: str) -> None:
        """The time spent producing the items of a generator function (its consumer excluded)."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            items = original(*args, **kwargs)

            def produce():
                spent = 0.0
                try:
                    while True:
                        started = time.perf_counter()
                        try:
                            item = next(items)
                        except StopIteration:
                            spent += time.perf_counter() - started
                            return
                        spent += time.perf_counter() - started
                        yield item
                finally:
                    self.add(label, spent)

            return produce()

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            setattr(owner, name, original)

    def get(self, label: str) -> float:
        return self.seconds.get(label, 0.0)


# --- the synthetic world -------------------------------------------------------------------------


def _policy() -> None:
    from django.conf import settings

    from ansinh.policy.models import Programme
    from ansinh.policy.services import load_policy

    if not Programme.objects.exists():
        load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)


def _world():
    """The province, its units (approving department, paying post office), the contract with the
    provider's funded account, and the approver (a user: PayrollApproval needs one)."""
    from django.contrib.auth import get_user_model

    from ansinh.accounts.models import Function, OrgKind, OrgUnit
    from ansinh.accounts.services import assign_responsibility, create_org_unit
    from ansinh.areas.models import Area, Level, Tree
    from ansinh.payments.models import Institution
    from ansinh.payroll.models import ContractPurpose, FeeKind, ProviderContract
    from ansinh.payroll.services import ContractInput, create_contract

    province, _ = Area.objects.get_or_create(
        tree=Tree.CURRENT, code=CODE, defaults={"level": Level.PROVINCE, "name": "Thử nghiệm chuyển khoản"}
    )
    communes = list(Area.objects.filter(parent=province, level=Level.COMMUNE).order_by("id"))
    for i in range(len(communes), COMMUNES):
        commune = Area.objects.create(
            tree=Tree.CURRENT, level=Level.COMMUNE, code=f"{CODE}{i:03d}", name=f"Xã Số {i + 1}", parent=province
        )
        for v in range(VILLAGES):
            Area.objects.create(tree=Tree.CURRENT, level=Level.VILLAGE, name=f"Ấp {v + 1}", parent=commune)
    office = OrgUnit.objects.filter(area=province, kind=OrgKind.PROVINCE_DEPARTMENT).first()
    if office is None:
        office = create_org_unit(
            actor=None, kind=OrgKind.PROVINCE_DEPARTMENT, name="Sở thử nghiệm chuyển khoản", area=province
        )
        assign_responsibility(actor=None, org_unit=office, area=province, function=Function.APPROVE)
    post = OrgUnit.objects.filter(area=province, kind=OrgKind.PROVIDER).first()
    if post is None:
        post = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name="Bưu điện tỉnh thử nghiệm", area=province)
        assign_responsibility(actor=None, org_unit=post, area=province, function=Function.PAY)
    if not ProviderContract.objects.filter(provider=post).exists():
        create_contract(
            actor=None,
            data=ContractInput(
                number="HĐ-BENCH/2026",
                paying_unit=office,
                provider=post,
                areas=[province],
                purpose=ContractPurpose.REGULAR,
                valid_from=date(2026, 1, 1),
                valid_to=date(2026, 12, 31),
                fee_kind=FeeKind.FLAT,
                fee_flat=5000,
                provider_account_number="1234567890123",
                provider_institution=Institution.objects.get(code="VBA"),
            ),
        )
    user, _ = get_user_model().objects.get_or_create(username="bench.approver", defaults={"full_name": "Người duyệt"})
    return province, user


def _people(province, size: int) -> None:
    """Top the province up to `size` beneficiaries (INSERT … SELECT generate_series, chunks of
    100,000), then give every one without an account a bank account with a real encrypted number
    (COPY, chunks of 100,000)."""
    from django.db import transaction

    from ansinh.areas.models import Area, Level

    have = _sql("SELECT count(*) FROM registry_beneficiary WHERE area_path LIKE %s", [province.path + "%"])[0][0]
    villages = [
        (v.pk, v.parent_id, v.path)
        for v in Area.objects.filter(path__startswith=province.path, level=Level.VILLAGE).order_by("id")
    ]
    n_v = len(villages)
    ids = "ARRAY[" + ",".join(str(v[0]) for v in villages) + "]"
    communes = "ARRAY[" + ",".join(str(v[1]) for v in villages) + "]"
    paths = "ARRAY[" + ",".join(f"'{v[2]}'" for v in villages) + "]"
    family = "ARRAY['Nguyễn','Trần','Lê','Phạm','Huỳnh','Võ','Đặng','Bùi','Đỗ','Hồ']"
    middle = "ARRAY['Văn','Thị','Hữu','Minh','Ngọc','Thanh']"
    given = "ARRAY['An','Bình','Cúc','Dũng','Đào','Hoa','Lan','Minh','Nga','Phúc','Sơn','Thảo','Uyên','Yến']"
    if have < size:
        c.say(f"province {CODE}: {have:,} beneficiaries; writing up to {size:,} …")
        started, first = time.monotonic(), have
    while have < size:
        n = min(CHUNK, size - have)
        base = _sql("SELECT COALESCE(max(id), 0) + 1 FROM registry_beneficiary")[0][0]
        series = f"(SELECT g, abs(hashint8(g)::bigint) AS h FROM generate_series({base}, {base + n - 1}) g) s"
        with transaction.atomic():
            _sql(
                "INSERT INTO registry_beneficiary (id, full_name, name_key, sort_key, birth_date, gender, cccd, "
                "legacy_id_number, phone, ethnicity, address, commune_id, village_id, area_path, cannot_travel, "
                "no_phone, cannot_read_vietnamese, frail, start_month, status, stop_reason, death_date, end_month, "
                "quality_issues, has_issues, created_at, updated_at) "
                f"SELECT g, nm, lower(nm), lower(nm), DATE '1930-01-01' + (h %% 20000)::int, "
                "CASE WHEN h %% 2 = 0 THEN 'female' ELSE 'male' END, '', '', "
                "CASE WHEN h %% 20 = 0 THEN '' ELSE '+8491' || lpad((g %% 10000000)::text, 7, '0') END, '', '', "
                f"({communes})[1 + g %% {n_v}], ({ids})[1 + g %% {n_v}], ({paths})[1 + g %% {n_v}], false, "
                "h %% 20 = 0, h %% 33 = 0, false, DATE '2025-01-01', "
                "CASE WHEN g %% 1000 = 7 THEN 'stopped' ELSE 'active' END, "
                "CASE WHEN g %% 1000 = 7 THEN 'died' ELSE '' END, "
                "CASE WHEN g %% 1000 = 7 THEN %s::date END, CASE WHEN g %% 1000 = 7 THEN %s::date END, "
                "'[]', false, now(), now() "
                f"FROM (SELECT s.*, ({family})[1 + h %% 10] || ' ' || ({middle})[1 + h / 10 %% 6] || ' ' || "
                f"({given})[1 + h / 60 %% 14] AS nm FROM {series}) s2",
                [DEATH, DEATH.replace(day=1)],
            )
        have += n
        rate = (have - first) / max(time.monotonic() - started, 1e-9)
        c.say(f"  {have:,} written ({rate:,.0f} rows/s)")
    _sql(
        "SELECT setval(pg_get_serial_sequence('registry_beneficiary', 'id'), "
        "(SELECT COALESCE(max(id), 1) FROM registry_beneficiary))"
    )
    _accounts(province)


def _accounts(province) -> None:
    from django.db import connection, transaction

    from ansinh.core.text import strip_accents
    from ansinh.payments import crypto
    from ansinh.payments.models import Institution, ReceivingAccount

    missing = _sql(
        "SELECT count(*) FROM registry_beneficiary b WHERE b.area_path LIKE %s AND NOT EXISTS "
        "(SELECT 1 FROM payments_receivingaccount a WHERE a.beneficiary_id = b.id)",
        [province.path + "%"],
    )[0][0]
    if not missing:
        token = ReceivingAccount.objects.order_by("id").values_list("number_encrypted", flat=True).first()
        try:
            crypto.decrypt(token or "")
        except Exception:  # noqa: BLE001 - InvalidToken: the data dir's keys changed
            raise SystemExit(
                "the accounts were encrypted with other keys (ANSINH_ACCOUNT_KEYS): run with --fresh"
            ) from None
        return
    banks = list(Institution.objects.filter(kind="bank", active=True).exclude(bin="").order_by("code")[:8])
    c.say(f"accounts: {missing:,} to write (real encrypted numbers, {len(banks)} banks) …")
    started, done, after = time.monotonic(), 0, 0
    columns = (
        "beneficiary_id, kind, institution_id, number_encrypted, number_hash, last4, holder_name, name_score, "
        "status, created_at, updated_at"
    )
    while True:
        rows = _sql(
            "SELECT b.id, b.full_name FROM registry_beneficiary b WHERE b.area_path LIKE %s AND b.id > %s "
            "AND NOT EXISTS (SELECT 1 FROM payments_receivingaccount a WHERE a.beneficiary_id = b.id) "
            "ORDER BY b.id LIMIT %s",
            [province.path + "%", after, CHUNK],
        )
        if not rows:
            break
        numbers = [str(1_000_000_000_000 + pk) for pk, _name in rows]
        encrypted, hashes = crypto.encrypt_many(numbers), crypto.hash_many(numbers)
        now = datetime.now(TZ)
        statement = f"COPY payments_receivingaccount ({columns}) FROM STDIN"
        with transaction.atomic(), connection.cursor() as cur, cur.cursor.copy(statement) as copy:
            for (pk, name), number, token, digest in zip(rows, numbers, encrypted, hashes, strict=True):
                holder = strip_accents(name).upper()
                bank = banks[pk % len(banks)]
                copy.write_row((pk, "bank", bank.pk, token, digest, number[-4:], holder, 100, "active", now, now))
        done += len(rows)
        after = rows[-1][0]
        c.say(f"  {done:,} accounts ({done / max(time.monotonic() - started, 1e-9):,.0f}/s)")


def _cycle(province, month: date):
    from ansinh.payroll.models import PaymentCycle
    from ansinh.payroll.services import open_cycles
    from ansinh.policy.models import Category

    open_cycles(actor=None, month=month, area=province)
    programme_id = Category.objects.get(code="D20.5.5.c").programme_id
    return PaymentCycle.objects.get(month=month, area=province, programme_id=programme_id)


def _reset() -> None:
    """Empty the disbursement tables (this database is the benchmark's), the transfer notices and
    the tasks that would send them."""
    # CASCADE: tables of other apps that refer to these (a complaint's transfer exceptions)
    _sql(f"TRUNCATE {', '.join(DISB_TABLES)} CASCADE")
    _sql("DELETE FROM notifications_message WHERE idempotency_key LIKE 'disb.%'")
    _sql("DELETE FROM django_tasks_database_dbtaskresult")


def _payroll(province, cycle, lines: int, user, state: str) -> None:
    """`lines` approved account-channel lines in the cycle (the first beneficiaries of the province,
    one regular line each, set-based), its PayrollApproval with the content hash, and `state`."""
    from django.db import transaction
    from django.utils import timezone

    from ansinh.payroll import approval
    from ansinh.payroll.models import PaymentCycle, PayrollApproval

    have = _sql("SELECT count(*) FROM payroll_payrollline WHERE cycle_id = %s", [cycle.pk])[0][0]
    if have != lines or not PayrollApproval.objects.filter(cycle=cycle).exists():
        started = time.monotonic()
        basis = json.dumps(
            {"category": "D20.5.5.c", "categories": ["D20.5.5.c"], "explanation": "500.000 ₫ × 1,5", "sensitive": False}
        )
        with transaction.atomic():
            PayrollApproval.objects.filter(cycle=cycle).delete()
            _sql("DELETE FROM payroll_payrollline WHERE cycle_id = %s", [cycle.pk])
            _sql(
                "INSERT INTO payroll_payrollline (cycle_id, beneficiary_id, line_type, amount, representation_id, "
                "payee_name, channel, account_id, account_institution, account_last4, account_holder, area_path, "
                "commune_id, basis, months, receivable_id, funeral_id, created_at) "
                "SELECT %s, b.id, 'regular', 500000 + (b.id %% 4) * 250000, NULL, b.full_name, 'account', a.id, "
                "i.code, a.last4, a.holder_name, b.area_path, b.commune_id, %s::jsonb, '{}'::jsonb, NULL, NULL, now() "
                "FROM (SELECT id, full_name, area_path, commune_id FROM registry_beneficiary WHERE area_path LIKE %s "
                "ORDER BY id LIMIT %s) b JOIN payments_receivingaccount a ON a.beneficiary_id = b.id "
                "JOIN payments_institution i ON i.id = a.institution_id",
                [cycle.pk, basis, province.path + "%", lines],
            )
            digest, count, total = approval.content_hash(cycle)
            PayrollApproval.objects.create(
                cycle=cycle,
                prepared_by=None,
                approved_by=user,
                approved_at=timezone.now(),
                lines=count,
                total_amount=total,
                content_hash=digest,
            )
        c.say(f"cycle {cycle.month:%m/%Y}: {count:,} lines written and approved in {time.monotonic() - started:.0f} s")
    PaymentCycle.objects.filter(pk=cycle.pk).update(state=state)
    cycle.refresh_from_db()


def _sent_batch(cycle):
    """The import cycle's batch as it is once its file went to the bank: every line's
    instruction "sent", in the file (set-based, not through the sandbox)."""
    from django.utils import timezone

    from ansinh.disbursement import batches
    from ansinh.disbursement.models import BatchState, ProviderBatch
    from ansinh.payroll.models import PayrollApproval
    from ansinh.payroll.services import contract_for

    contract = contract_for(cycle)
    assert contract is not None
    now = timezone.now().replace(microsecond=0)
    batch = ProviderBatch.objects.create(
        cycle=cycle,
        provider=contract.provider,
        contract=contract,
        sequence=1,
        message_id=batches.message_id(cycle.pk, contract.provider_id, 1),
        state=BatchState.EXPORTED,
        approval_hash=PayrollApproval.objects.get(cycle=cycle).content_hash,
        area_path=cycle.area_path,
        created_at=now,
        exported_at=now,
        submitted_at=now,
    )
    _sql(
        "INSERT INTO disbursement_instruction (batch_id, line_id, end_to_end_id, amount, creditor_name, account_id, "
        "institution_code, institution_bin, account_last4, remittance, state, bank_status, reason_code, reason, "
        "status_at, resend_of_id, commune_id, area_path, in_file, notified) "
        "SELECT %s, l.id, 'ANS-' || l.id || '-1', l.amount, l.account_holder, l.account_id, i.code, i.bin, "
        "l.account_last4, 'Tro cap thang ' || %s || ', ' || l.account_holder, 'sent', '', '', '', %s, NULL, "
        "l.commune_id, l.area_path, true, false FROM payroll_payrollline l "
        "JOIN payments_receivingaccount a ON a.id = l.account_id "
        "JOIN payments_institution i ON i.id = a.institution_id "
        "WHERE l.cycle_id = %s ORDER BY l.id",
        [batch.pk, f"{cycle.month:%m/%Y}", now, cycle.pk],
    )
    count, total = _sql("SELECT count(*), sum(amount) FROM disbursement_instruction WHERE batch_id = %s", [batch.pk])[0]
    ProviderBatch.objects.filter(pk=batch.pk).update(instructions_count=count, total_amount=total)
    batch.refresh_from_db()
    return batch


def _bank_status(pk: int) -> tuple[str, str]:
    """The bank's answer for instruction `pk` in the written pain.002 (about the sandbox's shares)."""
    bucket = pk * 2654435761 % 1000
    if bucket < 12:
        return "RJCT", "AC01"
    if bucket < 20:
        return "RJCT", "AC04"
    if bucket < 30:
        return "RJCT", "BE01"
    return "ACSC", ""


def _write_pain002(batch, path: Path) -> float:
    from django.utils import timezone

    from ansinh.disbursement.formats import pain002
    from ansinh.disbursement.models import Instruction

    now = timezone.now().replace(microsecond=0)
    group = pain002.GroupStatus(
        message_id=f"BANK-{now:%Y%m%d%H%M%S}",
        created_at=now,
        original_message_id=batch.message_id,
        original_name="pain.001.001.09",
        original_count=batch.instructions_count,
        original_total=batch.total_amount,
        group_status="PART",
    )

    def statuses():
        rows = Instruction.objects.filter(batch=batch).order_by("id").values_list("id", "end_to_end_id", "amount")
        for pk, e2e, amount in rows.iterator(5000):
            status, reason = _bank_status(pk)
            yield pain002.TxStatus(end_to_end_id=e2e, status=status, reason_code=reason, amount=amount)

    started = time.perf_counter()
    with path.open("wb") as out:
        pain002.write(out, group, statuses())
    return time.perf_counter() - started


def _vacuum(*tables: str) -> None:
    for table in tables or (
        "registry_beneficiary",
        "payments_receivingaccount",
        "payroll_payrollline",
        "disbursement_instruction",
        "disbursement_providerbatch",
        "disbursement_statusimportrow",
        "disbursement_payout",
        "notifications_message",
    ):
        _sql(f"VACUUM ANALYZE {table}")


# --- 1. end to end --------------------------------------------------------------------------------


E2E_STAGES = (
    # (module path, attribute, label, generator?)
    ("ansinh.disbursement.batches", "_groups", "build: lines read (effective channel)", True),
    ("ansinh.disbursement.batches", "_insert_instructions", "build: instructions COPY", False),
    ("ansinh.disbursement.sending", "write_file", "pain.001 written and recorded (write_file)", False),
    ("ansinh.disbursement.batches", "_check_holds", "  holds checked", False),
    ("ansinh.disbursement.formats.pain001", "write", "  pain001.write (XML, streamed)", False),
    ("ansinh.disbursement.batches", "_transfers", "    of which instructions read + decrypted", True),
    ("ansinh.disbursement.bank.SandboxBank", "submit", "sandbox bank (receive)", False),
    # one pass since 2026-12-04: read (XSD, sums, transfers), decided and booked per chunk, answered
    ("ansinh.disbursement.formats.pain001.Order", "transfers", "  pain.001 read once (XSD, sums, transfers)", True),
    ("ansinh.disbursement.sandbox", "_book", "  decided and booked (chunks)", False),
    ("ansinh.disbursement.sandbox", "_answer", "  pain.002 answered (written from the buffer)", False),
)
IMPORT_STAGES = (
    ("ansinh.disbursement.sending", "import_status", "pain.002 imported (import_status)", False),
    ("ansinh.disbursement.statuses", "import_status", "pain.002 imported (import_status)", False),
    ("ansinh.disbursement.statuses", "_apply", "  job applied", False),
    ("ansinh.disbursement.statuses", "_write_rows", "    file read, job rows written (COPY)", False),
    ("ansinh.disbursement.formats.pain002.Report", "transactions", "      of which pain.002 parsed (XSD)", True),
    ("ansinh.disbursement.statuses", "_classify_and_book", "    classified and booked (SQL, payouts)", False),
    ("ansinh.disbursement.statuses", "_summary", "    summary", False),
    ("ansinh.disbursement.statuses", "_exceptions", "    exceptions", False),
    ("ansinh.disbursement.statuses", "_advance_batch", "    batch and cycle states", False),
    ("django.db.connection", "commit", "    commit (deferred foreign-key checks) @   job applied", False),
)


def _patch(stages: Stages, table) -> None:
    import importlib

    for path, name, label, generator in table:
        module, _, last = path.rpartition(".")
        owner: object
        if path == "django.db.connection":
            from django.db import connections

            owner = connections["default"]
        elif last[:1].isupper():  # a class
            owner = getattr(importlib.import_module(module), last)
        else:
            owner = importlib.import_module(path)
        if not hasattr(owner, name):  # the code changed: that stage is not shown
            c.say(f"   (no {path}.{name} to time)")
            continue
        (stages.wrap_iter if generator else stages.wrap)(owner, name, label)


def _print_stages(stages: Stages, table, total: float, *, parse_label: str | None = None) -> None:
    seen = set()
    for _path, _name, full_label, _gen in table:
        label = full_label.partition(" @ ")[0]
        if label in seen or label not in stages.seconds:
            continue
        seen.add(label)
        s = stages.get(label)
        c.say(f"   {label:<52}{s:8.2f} s  {100 * s / total:5.1f} %")
        if parse_label and label == "  job applied":
            inner = sum(
                stages.get(lbl)
                for lbl in (
                    "    commit (deferred foreign-key checks)",
                    "    file read, job rows written (COPY)",
                    "    classified and booked (SQL, payouts)",
                    "    summary",
                    "    exceptions",
                    "    batch and cycle states",
                )
            )
            rest = s - inner
            c.say(f"   {parse_label:<52}{rest:8.2f} s  {100 * rest / total:5.1f} %")


def end_to_end(cycle) -> dict:
    from ansinh.disbursement import batches, sandbox, sending
    from ansinh.disbursement.bank import SandboxBank

    stages = Stages()
    _patch(stages, E2E_STAGES)
    _patch(stages, IMPORT_STAGES[:1] + IMPORT_STAGES[2:])
    bank = SandboxBank(sandbox.Options(delays=False, validate=True))
    try:
        started = time.perf_counter()
        build_s, built = _timed(batches.build_batches, actor=None, cycle=cycle)
        (batch,) = built.batches
        send_s, result = _timed(sending.submit_batch, actor=None, batch=batch, bank=bank)
        total = time.perf_counter() - started
    finally:
        stages.restore()
    notices_s, notified = _notices(result.job)
    return {
        "stages": stages,
        "total_s": total,
        "build_s": build_s,
        "send_s": send_s,
        "batch": batch,
        "result": result,
        "notices_s": notices_s,
        "notified": notified,
    }


def _notices(job) -> tuple[float, dict]:
    """The payees' notices of a status import: the body of the task the import enqueued on commit
    (`disbursement.tasks.notify_transfers_task`), run here at once, as the worker would."""
    from ansinh.disbursement import notices

    return _timed(notices.notify_pending, job_id=job.pk)


def _e2e_checks(cycle, batch) -> dict:
    cycle.refresh_from_db()
    batch.refresh_from_db()
    lines, without_one = _sql(
        "SELECT count(*), count(*) FILTER (WHERE n <> 1) FROM (SELECT l.id, (SELECT count(*) FROM "
        "disbursement_instruction i WHERE i.line_id = l.id) AS n FROM payroll_payrollline l "
        "WHERE l.cycle_id = %s AND l.channel = 'account') t",
        [cycle.pk],
    )[0]
    states = dict(
        _sql("SELECT state, count(*) FROM disbursement_instruction WHERE batch_id = %s GROUP BY state", [batch.pk])
    )
    credited = states.get("credited", 0)
    paid = _sql(
        "SELECT count(DISTINCT p.instruction_id), count(*) FROM disbursement_payout p "
        "JOIN disbursement_instruction i ON i.id = p.instruction_id WHERE i.batch_id = %s",
        [batch.pk],
    )[0]
    exceptions = dict(
        _sql("SELECT kind, count(*) FROM disbursement_transferexception WHERE batch_id = %s GROUP BY kind", [batch.pk])
    )
    jobs = _sql(
        "SELECT j.state, (SELECT count(*) FROM disbursement_statusimportrow r WHERE r.job_id = j.id) "
        "FROM disbursement_statusimport j WHERE j.batch_id = %s",
        [batch.pk],
    )
    notices = dict(
        _sql(
            "SELECT m.channel, count(*) FROM notifications_message m WHERE m.idempotency_key LIKE 'disb.%%' "
            "AND m.idempotency_key ~ %s GROUP BY m.channel",
            [r"^disb\.(credited|failed)\."],
        )
    )
    files = _sql("SELECT file_format, size, times FROM disbursement_exportedfile WHERE batch_id = %s", [batch.pk])
    return {
        "lines": lines,
        "lines_without_exactly_one_instruction": without_one,
        "instruction_states": states,
        "credited": credited,
        "paid_instructions": paid[0],
        "payouts": paid[1],
        "exceptions": exceptions,
        "jobs": jobs,
        "notices": notices,
        "batch_state": batch.state,
        "cycle_state": cycle.state,
        "files": files,
    }


# --- 2. pain.001 written and validated (fresh processes) -----------------------------------------

_NAMES = [
    f"{a} {b} {g}"
    for a in ("NGUYEN", "TRAN", "LE", "PHAM", "HUYNH", "VO", "DANG", "BUI")
    for b in ("VAN", "THI", "HUU", "MINH")
    for g in ("AN", "BINH", "CUC", "DUNG", "DAO", "HOA", "LAN", "NGA", "PHUC", "SON")
]
_BINS = ("970405", "970418", "970422", "970436", "970415", "970407")


def _header():
    from ansinh.disbursement.formats import pain001

    at = datetime(2026, 5, 2, 8, 0, tzinfo=TZ)
    return pain001.Header(
        message_id="ANS-C1-P1-1",
        created_at=at,
        initiating_party="Buu dien tinh thu nghiem",
        debtor_name="Buu dien tinh thu nghiem",
        debtor_account="1234567890123",
        debtor_bin="970405",
        requested_date=at.date(),
        payment_info_id="ANS-C1-P1-1",
    )


def _synthetic(n: int):
    """The same transfers for our writer and the floor's (names and remittance already in the
    Latin set, as the holder names and the remittance of the instructions are)."""
    from ansinh.disbursement.formats import pain001

    for i in range(n):
        name = _NAMES[i % len(_NAMES)]
        yield pain001.Transfer(
            end_to_end_id=f"ANS-{1_000_000 + i}-1",
            amount=500_000 + (i % 4) * 250_000,
            creditor_name=name,
            creditor_account=str(1_000_000_000_000 + i),
            creditor_bin=_BINS[i % len(_BINS)],
            remittance=f"Tro cap thang 05/2026, {name.title()}",
        )


def _totals(n: int) -> tuple[int, int]:
    return n, sum(500_000 + (i % 4) * 250_000 for i in range(n))


def _floor_write(path: Path, header, transfers, count: int, total: int) -> None:
    """The simplest correct lxml writer of the same elements: each transaction built as an element
    and serialised by the incremental writer (no indentation, no checks of the values)."""
    from lxml import etree

    from ansinh.disbursement.formats import pain001

    ns = pain001.NAMESPACE
    q = f"{{{ns}}}"
    nsmap = {None: ns}
    sub = etree.SubElement

    def leaf(parent, tag, text, **attrib):
        e = sub(parent, q + tag, attrib)
        e.text = text
        return e

    def agent(parent, tag, bank_bin):
        leaf(sub(sub(sub(parent, q + tag), q + "FinInstnId"), q + "ClrSysMmbId"), "MmbId", bank_bin)

    def account(parent, tag, number):
        leaf(sub(sub(sub(parent, q + tag), q + "Id"), q + "Othr"), "Id", number)

    with path.open("wb") as f, etree.xmlfile(f, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(q + "Document", nsmap=nsmap), xf.element(q + "CstmrCdtTrfInitn"):
            grp = etree.Element(q + "GrpHdr", nsmap=nsmap)
            leaf(grp, "MsgId", header.message_id)
            leaf(grp, "CreDtTm", header.created_at.isoformat(timespec="seconds"))
            leaf(grp, "NbOfTxs", str(count))
            leaf(grp, "CtrlSum", str(total))
            leaf(sub(grp, q + "InitgPty"), "Nm", header.initiating_party)
            xf.write(grp)
            with xf.element(q + "PmtInf"):
                head = etree.Element(q + "PmtInf", nsmap=nsmap)
                leaf(head, "PmtInfId", header.payment_info_id)
                leaf(head, "PmtMtd", "TRF")
                leaf(head, "BtchBookg", "true")
                leaf(head, "NbOfTxs", str(count))
                leaf(head, "CtrlSum", str(total))
                leaf(sub(head, q + "ReqdExctnDt"), "Dt", header.requested_date.isoformat())
                leaf(sub(head, q + "Dbtr"), "Nm", header.debtor_name)
                account(head, "DbtrAcct", header.debtor_account)
                agent(head, "DbtrAgt", header.debtor_bin)
                leaf(head, "ChrgBr", "SLEV")
                for child in head:
                    xf.write(child)
                for t in transfers:
                    tx = etree.Element(q + "CdtTrfTxInf", nsmap=nsmap)
                    leaf(sub(tx, q + "PmtId"), "EndToEndId", t.end_to_end_id)
                    leaf(sub(tx, q + "Amt"), "InstdAmt", str(t.amount), Ccy="VND")
                    agent(tx, "CdtrAgt", t.creditor_bin)
                    leaf(sub(tx, q + "Cdtr"), "Nm", t.creditor_name)
                    account(tx, "CdtrAcct", t.creditor_account)
                    leaf(sub(tx, q + "RmtInf"), "Ustrd", t.remittance)
                    xf.write(tx)


def _floor_validate(path: Path) -> tuple[int, int]:
    """lxml validating the file against the schema while streaming (iterparse), summing the
    amounts; the transactions are freed as they are read."""
    from lxml import etree

    from ansinh.disbursement.formats import pain001
    from ansinh.disbursement.formats.schemas import schema

    q = f"{{{pain001.NAMESPACE}}}"
    amount = f"{q}Amt/{q}InstdAmt"
    count = total = 0
    for _event, element in etree.iterparse(
        str(path), events=("end",), tag=q + "CdtTrfTxInf", schema=schema(pain001.SCHEMA), resolve_entities=False
    ):
        total += int(element.findtext(amount))
        count += 1
        element.clear()
        parent = element.getparent()
        while element.getprevious() is not None:
            del parent[0]
    return count, total


def child_pain001(url: str, kind: str, n: int, batch_id: int | None, workdir: str) -> dict:
    """In a fresh process: write and validate a pain.001 of `n` transfers, `kind` "ours"
    (pain001.write + pain001.validate), "floor" (lxml) or "export" (batches.write_file of the
    end-to-end batch + pain001.validate). Returns the timings and the peak memory (VmHWM)."""
    c.setup_django(url)
    from ansinh.disbursement.formats import pain001
    from ansinh.disbursement.formats.schemas import schema

    schema(pain001.SCHEMA)  # loaded before the baseline, as in a running server
    baseline = _hwm()
    path = Path(workdir) / f"{kind}.xml"
    count, total = _totals(n)
    started = time.perf_counter()
    if kind == "ours":
        with path.open("wb") as out:
            pain001.write(out, _header(), _synthetic(n), count=count, total=total)
    elif kind == "floor":
        _floor_write(path, _header(), _synthetic(n), count, total)
    else:
        from ansinh.disbursement import batches
        from ansinh.disbursement.models import ProviderBatch

        assert batch_id is not None
        batch = ProviderBatch.objects.get(pk=batch_id)
        with path.open("wb") as out:
            batches.write_file(actor=None, batch=batch, file_format="pain.001", out=out)
    write_s = time.perf_counter() - started
    after_write = _hwm()
    started = time.perf_counter()
    if kind == "floor":
        got = _floor_validate(path)
        if got != (count, total):
            raise SystemExit(f"the floor read {got}, wrote {(count, total)}")
    else:
        pain001.validate(path)
    validate_s = time.perf_counter() - started
    size = path.stat().st_size
    path.unlink()
    return {
        "kind": kind,
        "write_s": write_s,
        "validate_s": validate_s,
        "bytes": size,
        "baseline_rss": baseline,
        "after_write_rss": after_write,
        "peak_rss": _hwm(),
    }


def _in_child(*args) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(child_pain001, args)


def pain001_memory_and_floor(url: str, n: int, batch_id: int, repeat: int) -> dict:
    workdir = tempfile.mkdtemp(prefix="ansinh-bench-disb-")
    runs: dict[str, list[dict]] = {"ours": [], "floor": []}
    for _ in range(repeat):
        for kind in ("ours", "floor"):
            runs[kind].append(_in_child(url, kind, n, None, workdir))
    export = _in_child(url, "export", n, batch_id, workdir)
    os.rmdir(workdir)
    best = {k: min(v, key=lambda r: r["write_s"] + r["validate_s"]) for k, v in runs.items()}
    return {"runs": runs, "best": best, "export": export}


# --- 3. pain.002 import against its floor ---------------------------------------------------------


def _floor_import(path: Path, batch_id: int) -> dict:
    """The floor: the file parsed by lxml's streaming parser with the schema, each status COPY'd
    into a staging table as it is read, then one UPDATE … FROM of the real instruction table;
    rolled back."""
    from django.db import connection, transaction
    from lxml import etree

    from ansinh.disbursement.formats import pain002
    from ansinh.disbursement.formats.schemas import schema

    q = f"{{{pain002.NAMESPACE}}}"
    e2e, sts, amount = q + "OrgnlEndToEndId", q + "TxSts", f"{q}OrgnlTxRef/{q}Amt/{q}InstdAmt"
    xsd = schema(pain002.SCHEMA)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMPORARY TABLE bench_staging (end_to_end_id varchar(35), status varchar(4), amount bigint) "
            "ON COMMIT DROP"
        )
        with cur.cursor.copy("COPY bench_staging (end_to_end_id, status, amount) FROM STDIN") as copy:
            for _event, element in etree.iterparse(
                str(path), events=("end",), tag=q + "TxInfAndSts", schema=xsd, resolve_entities=False
            ):
                copy.write_row((element.findtext(e2e), element.findtext(sts), int(element.findtext(amount))))
                element.clear()
                parent = element.getparent()
                while element.getprevious() is not None:
                    del parent[0]
        copied = time.perf_counter() - started
        cur.execute(
            "UPDATE disbursement_instruction AS i SET state = CASE s.status WHEN 'ACSC' THEN 'credited' "
            "WHEN 'ACCC' THEN 'credited' WHEN 'RJCT' THEN 'rejected' ELSE 'accepted' END, bank_status = s.status, "
            "status_at = now() FROM bench_staging AS s "
            "WHERE i.batch_id = %s AND i.end_to_end_id = s.end_to_end_id AND i.amount = s.amount",
            [batch_id],
        )
        updated = cur.rowcount
        took = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"total_s": took, "parse_copy_s": copied, "update_s": took - copied, "updated": updated}


def _parse_only(path: Path) -> dict:
    """For information: each parser alone, no database (ours: pain002.Report, the floor's:
    iterparse with the schema)."""
    from lxml import etree

    from ansinh.disbursement.formats import pain002
    from ansinh.disbursement.formats.schemas import schema

    started = time.perf_counter()
    n = sum(1 for _ in pain002.Report(path).transactions())
    ours = time.perf_counter() - started
    q = f"{{{pain002.NAMESPACE}}}"
    started = time.perf_counter()
    m = 0
    for _event, element in etree.iterparse(
        str(path), events=("end",), tag=q + "TxInfAndSts", schema=schema(pain002.SCHEMA), resolve_entities=False
    ):
        element.findtext(q + "OrgnlEndToEndId")
        m += 1
        element.clear()
        parent = element.getparent()
        while element.getprevious() is not None:
            del parent[0]
    floor = time.perf_counter() - started
    assert n == m
    return {"ours_s": ours, "floor_s": floor}


def import_statuses(batch, path: Path) -> dict:
    from ansinh.disbursement import statuses

    stages = Stages()
    _patch(stages, IMPORT_STAGES[1:])
    try:
        took, job = _timed(statuses.import_status, actor=None, content=path, source="pain.002", file_name=path.name)
    finally:
        stages.restore()
    return {"total_s": took, "job": job, "stages": stages}


# --- the run ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="lines of the end-to-end cycle")
    parser.add_argument("--import-size", type=int, default=1_000_000, help="statuses of the pain.002 import")
    parser.add_argument("--repeat", type=int, default=2, help="runs of the pain.001 write + validate and its floor")
    parser.add_argument("--database-url", help="default: BENCH_DATABASE_URL, else " + DEFAULT_URL)
    parser.add_argument("--fresh", action="store_true", help="drop the benchmark database and build it again")
    parser.add_argument(
        "--skip-import-notices",
        action="store_true",
        help="do not run the notices of the pain.002 import (part 3; 12 minutes at a million statuses)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    url = _url(args.database_url)
    if args.fresh:
        _drop(url)
    c.prepare(url)
    c.setup_django(url)
    c.header(f"Disbursement: {args.size:,} transfers end to end, {args.import_size:,} statuses imported")
    c.say(f"   {c.postgres_version()}; database {urlsplit(url).path.lstrip('/')}")

    _policy()
    setup_started = time.monotonic()
    province, user = _world()
    _people(province, max(args.size, args.import_size))
    e2e_cycle = _cycle(province, E2E_MONTH)
    import_cycle = _cycle(province, IMPORT_MONTH)
    _reset()
    _payroll(province, e2e_cycle, args.size, user, "funded")
    _payroll(province, import_cycle, args.import_size, user, "sent_to_provider")
    started = time.monotonic()
    sent = _sent_batch(import_cycle)
    c.say(
        f"import batch {sent.message_id}: {sent.instructions_count:,} instructions sent "
        f"({time.monotonic() - started:.0f} s)"
    )
    workdir = Path(tempfile.mkdtemp(prefix="ansinh-bench-disb-"))
    pain002_path = workdir / f"pain002-{args.import_size}.xml"
    pain002_s = _write_pain002(sent, pain002_path)
    c.say(
        f"pain.002 of {sent.instructions_count:,} statuses written by pain002.write: "
        f"{c.mb(pain002_path.stat().st_size)} in {pain002_s:.1f} s"
    )
    _vacuum()
    c.say(f"setup {time.monotonic() - setup_started:.0f} s")

    # 1. end to end
    c.say(f"\n1. End to end: {args.size:,} approved account-channel lines, one funded cycle")
    e2e = end_to_end(e2e_cycle)
    checks = _e2e_checks(e2e_cycle, e2e["batch"])
    total = e2e["total_s"]
    rate = args.size / total
    st = e2e["stages"]
    c.say(f"   {'build_batches':<52}{e2e['build_s']:8.2f} s  {100 * e2e['build_s'] / total:5.1f} %")
    _print_stages(st, E2E_STAGES[:2], total)
    c.say(f"   {'submit_batch':<52}{e2e['send_s']:8.2f} s  {100 * e2e['send_s'] / total:5.1f} %")
    _print_stages(
        st, E2E_STAGES[2:] + IMPORT_STAGES[:1] + IMPORT_STAGES[2:], total, parse_label="    job, audit event, the rest"
    )
    notices_e2e = e2e["notices_s"]
    c.say(f"   {'reconciled: batch → bank → statuses committed':<52}{total:8.2f} s  (target < {TARGET_S:.0f} s)")
    c.say(
        f"   {rate:,.0f} disbursements/s (target ≥ {TARGET_RATE:,}); OpenG2P G2P Bridge 1.1.0: "
        f"{OPENG2P[0]}–{OPENG2P[1]}/s → {rate / OPENG2P[1]:,.0f}–{rate / OPENG2P[0]:,.0f}× as fast"
    )
    with_notices = total + notices_e2e
    c.say(
        f"   then the payees' notices (the task the import enqueued, run here): {notices_e2e:.2f} s "
        f"{json.dumps(e2e['notified'])}; with them {with_notices:.2f} s, {args.size / with_notices:,.0f}/s "
        f"(notices {100 * notices_e2e / with_notices:.0f} %)"
    )
    one_each = checks["lines_without_exactly_one_instruction"] == 0
    paid_ok = checks["credited"] == checks["paid_instructions"] == checks["payouts"]
    c.say(
        f"   lines {checks['lines']:,}; with exactly one instruction: "
        f"{'all' if one_each else 'NOT ALL (' + str(checks['lines_without_exactly_one_instruction']) + ' not)'}"
    )
    c.say(f"   instructions {json.dumps(checks['instruction_states'])}")
    c.say(
        f"   credited {checks['credited']:,} = instructions paid {checks['paid_instructions']:,} = payouts "
        f"{checks['payouts']:,}: {'yes' if paid_ok else 'NO'}"
    )
    c.say(
        f"   exceptions {json.dumps(checks['exceptions'])}; notices {json.dumps(checks['notices'])}; "
        f"status jobs {checks['jobs']}"
    )
    c.say(f"   batch {checks['batch_state']}, cycle {checks['cycle_state']}; files {checks['files']}")
    states_ok = checks["batch_state"] == "reported" and checks["cycle_state"] == "paying"

    # 2. pain.001 memory and floor
    c.say(f"\n2. pain.001 of {args.size:,} transfers written and validated, each in a fresh process")
    p1 = pain001_memory_and_floor(url, args.size, e2e["batch"].pk, args.repeat)
    for kind in ("ours", "floor"):
        for r in p1["runs"][kind]:
            c.say(
                f"   {kind:<6} write {r['write_s']:6.2f} s + validate {r['validate_s']:6.2f} s = "
                f"{r['write_s'] + r['validate_s']:6.2f} s; {c.mb(r['bytes'])}; peak RSS {c.mb(r['peak_rss'])} "
                f"(after Django set-up {c.mb(r['baseline_rss'])}, after writing {c.mb(r['after_write_rss'])})"
            )
    ours, floor = p1["best"]["ours"], p1["best"]["floor"]
    ours_s, floor_s = ours["write_s"] + ours["validate_s"], floor["write_s"] + floor["validate_s"]
    write_ratio = ours_s / floor_s
    ex = p1["export"]
    c.say(
        f"   re-export through batches.write_file (database, decryption) {ex['write_s']:.2f} s + validate "
        f"{ex['validate_s']:.2f} s; peak RSS {c.mb(ex['peak_rss'])} (after set-up {c.mb(ex['baseline_rss'])})"
    )
    peak_mb = max(r["peak_rss"] for r in [*p1["runs"]["ours"], ex]) / 1024 / 1024
    c.say(
        f"   ratio (write + validate) / floor: {ours_s:.2f} / {floor_s:.2f} = {write_ratio:.2f} "
        f"(target ≤ {TARGET_WRITE}); write {ours['write_s'] / floor['write_s']:.2f}×, validate "
        f"{ours['validate_s'] / floor['validate_s']:.2f}×; peak memory {peak_mb:.0f} MB (target < {TARGET_MB} MB)"
    )

    # 3. pain.002 import
    c.say(f"\n3. pain.002 import of {sent.instructions_count:,} statuses")
    parse = _parse_only(pain002_path)
    c.say(f"   parsers alone (no database): ours {parse['ours_s']:.2f} s, lxml iterparse {parse['floor_s']:.2f} s")
    floor1 = _floor_import(pain002_path, sent.pk)
    _vacuum("disbursement_instruction")
    imp = import_statuses(sent, pain002_path)
    inotices_s, inotified = (0.0, {}) if args.skip_import_notices else _notices(imp["job"])
    _vacuum("disbursement_instruction", "disbursement_statusimportrow", "disbursement_payout")
    floor2 = _floor_import(pain002_path, sent.pk)
    _vacuum("disbursement_instruction")
    for i, f in enumerate((floor1, floor2), start=1):
        c.say(
            f"   floor {i}: parse + COPY {f['parse_copy_s']:.2f} s + UPDATE {f['update_s']:.2f} s = "
            f"{f['total_s']:.2f} s ({f['updated']:,} rows, rolled back)"
        )
    ifloor = min(floor1["total_s"], floor2["total_s"])
    job = imp["job"]
    ist = imp["stages"]
    notices_s = inotices_s
    itotal = imp["total_s"]
    _print_stages(ist, IMPORT_STAGES[1:], itotal, parse_label="    job, audit event, the rest")
    import_ratio = itotal / ifloor
    with_ratio = (itotal + notices_s) / ifloor
    c.say(f"   import_status {itotal:.2f} s = {import_ratio:.2f}× the floor ({ifloor:.2f} s; target ≤ {TARGET_IMPORT})")
    if args.skip_import_notices:
        c.say("   the payees' notices of this import: not run (--skip-import-notices)")
    else:
        c.say(
            f"   then the payees' notices (the task the import enqueued, run here): {notices_s:.2f} s "
            f"{json.dumps(inotified)} = {100 * notices_s / (itotal + notices_s):.0f} % of import + notices "
            f"({itotal + notices_s:.2f} s, {with_ratio:.2f}× the floor)"
        )
    c.say(f"   job {job.state}: {json.dumps(job.summary.get('outcomes'))} {json.dumps(job.summary.get('per_status'))}")
    sent.refresh_from_db()
    import_cycle.refresh_from_db()
    ipaid = _sql(
        "SELECT count(*) FROM disbursement_payout p JOIN disbursement_instruction i ON i.id = p.instruction_id "
        "WHERE i.batch_id = %s",
        [sent.pk],
    )[0][0]
    icredited = _sql(
        "SELECT count(*) FROM disbursement_instruction WHERE batch_id = %s AND state = 'credited'", [sent.pk]
    )[0][0]
    c.say(f"   credited {icredited:,}, payouts {ipaid:,}; batch {sent.state}, cycle {import_cycle.state}")
    pain002_path.unlink()
    os.rmdir(workdir)
    peak_self = _rss()
    c.say(f"   peak memory of this process (ru_maxrss): {c.mb(peak_self)}")

    results = {
        "end to end < 20 s": total < TARGET_S,
        "≥ 5,000 disbursements/s": rate >= TARGET_RATE,
        "one instruction per line, credited = paid, states": one_each and paid_ok and states_ok,
        "pain.001 peak memory < 300 MB": peak_mb < TARGET_MB,
        "pain.001 write + validate ≤ 2.0× floor": write_ratio <= TARGET_WRITE,
        "pain.002 import ≤ 2.0× floor": import_ratio <= TARGET_IMPORT,
    }
    c.say("")
    for key, ok in results.items():
        c.say(f"   {key:<55} {'PASS' if ok else 'FAIL'}")
    out = {
        "size": args.size,
        "import_size": args.import_size,
        "e2e": {
            "total_s": total,
            "rate": rate,
            "build_s": e2e["build_s"],
            "send_s": e2e["send_s"],
            "stages": dict(st.seconds),
            "notices_s": notices_e2e,
            "notified": e2e["notified"],
            "checks": {k: v for k, v in checks.items() if k != "jobs"},
        },
        "pain001": {
            "ours": ours,
            "floor": floor,
            "export": ex,
            "ratio": write_ratio,
            "peak_mb": peak_mb,
        },
        "pain002": {
            "total_s": itotal,
            "floor_s": [floor1, floor2],
            "ratio": import_ratio,
            "ratio_with_notices": with_ratio,
            "notices_s": notices_s,
            "stages": dict(ist.seconds),
            "parse_only": parse,
            "summary": job.summary,
        },
        "peak_rss_mb": peak_self / 1024 / 1024,
        "results": results,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
    out["ok"] = all(results.values())
    out["strict"] = args.strict
    return out


def _drop(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres", scheme="postgresql").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    c.say(f"database {name} dropped (--fresh)")


if __name__ == "__main__":
    result = main()
    sys.exit(0 if result["ok"] or not result["strict"] else 1)
