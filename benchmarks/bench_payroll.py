"""Payroll generation at national scale (issue 10, parts 3 and 8): a cycle of N active
beneficiaries (default 1,000,000) in one area on PostgreSQL, through the real code
(`payroll.generation.generate_payroll`, `compare_with_previous`).

The registry is synthetic and its own: a province (current tree, code BENCHPAY, 100 communes of 5
villages) topped up to --size, written set-based by INSERT … SELECT generate_series in chunks of
100,000 (one transaction each, bounded memory on both sides), with explicit ids so every
attribute derives from the id: claims of the social-assistance programme (older people with and
without age brackets, disability with its conditions, children, a sensitive category, per-unit
claims, 5 % with two claims), representatives (20 %: half the payee by the registry's flag,
some by a payee designation), payment methods (35 % account with a receiving account, some with
an earlier pay-point method; 45 % pay point; 15 % home; 5 % none).

Setup (not timed): the previous month is generated and approved through a shortcut (state
update + `adjustments.record_paid_months`); then 0.3 % late arrivals with a start two months
back (arrears) are added and 0.2 % of the paid people are recorded dead the month before the
previous one (paid after death: recoveries).

Timed, on the same data, in one run:
  floor           the same-rows floor (the targets'): one INSERT … SELECT of exactly the rows the
                  generation wrote (copied from its lines, every value included: the same payee and
                  account foreign keys, index entries and widths) into a copy of
                  payroll_payrollline (LIKE … INCLUDING ALL, plus its foreign keys: the same
                  constraints and indexes), committed. Printed beside it, the plain floor of
                  earlier runs: the same number of rows read from the registry with constant
                  values (no payee, no account, so fewer foreign keys checked at the commit).
  generation      generate_payroll on the appraised cycle (regular lines, arrears,
                  recoveries, summary, run, audit, transition), committed
  re-generation   generate_payroll again on the draft (delete + insert)
  comparison      compare_with_previous (this month against the previous one)
Targets: generation and re-generation ≤ 2.0 × floor; peak memory of this process < 500 MB;
comparison < 10 s.

  BENCH_DATABASE_URL=postgres://…/ansinh_bench python benchmarks/bench_payroll.py [--size 1000000]
  [--strict]   (exit 1 when a target is missed)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

CODE = "BENCHPAY"
COMMUNES = 100
VILLAGES = 5
CHUNK = 100_000
PREVIOUS, MONTH = date(2026, 3, 1), date(2026, 4, 1)
BEFORE = date(2026, 2, 1)  # the month of death of the "paid after death" people; the late arrivals' start
TARGET_RATIO, TARGET_MB, TARGET_COMPARE_S = 2.0, 500, 10.0
LATE_SHARE, DEAD_SHARE, LOWERED_SHARE = 0.003, 0.002, 0.001


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _sql(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else cur.rowcount


def _timed(fn, *args, **kwargs):
    started = time.monotonic()
    out = fn(*args, **kwargs)
    return time.monotonic() - started, out


# --- the synthetic world -------------------------------------------------------------------------


def _policy() -> None:
    from django.conf import settings

    from ansinh.policy.models import Programme
    from ansinh.policy.services import load_policy

    if not Programme.objects.exists():
        load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)


def _tree():
    from ansinh.accounts.models import Function, OrgKind
    from ansinh.accounts.services import assign_responsibility, create_org_unit
    from ansinh.areas.models import Area, Level, Tree

    province, _ = Area.objects.get_or_create(
        tree=Tree.CURRENT, code=CODE, defaults={"level": Level.PROVINCE, "name": "Thử nghiệm chi trả"}
    )
    communes = list(Area.objects.filter(parent=province, level=Level.COMMUNE).order_by("id"))
    for i in range(len(communes), COMMUNES):
        commune = Area.objects.create(
            tree=Tree.CURRENT, level=Level.COMMUNE, code=f"{CODE}{i:03d}", name=f"Xã Số {i + 1}", parent=province
        )
        for v in range(VILLAGES):
            Area.objects.create(tree=Tree.CURRENT, level=Level.VILLAGE, name=f"Ấp {v + 1}", parent=commune)
    unit = create_org_unit(actor=None, kind=OrgKind.PROVINCE_DEPARTMENT, name="Sở thử nghiệm chi trả", area=province)
    if not unit.responsibilities.exists():
        assign_responsibility(actor=None, org_unit=unit, area=province, function=Function.APPROVE)
    return province


# Claims by bucket (id hash % 100): category, condition, units, birth range (first year, years).
_CLAIMS_SQL = """
CASE WHEN cb < 35 THEN 'D20.5.5.a' WHEN cb < 55 THEN 'D20.5.5.c' WHEN cb < 75 THEN 'D20.5.6'
     WHEN cb < 80 THEN 'D20.5.1' WHEN cb < 82 THEN 'D20.5.3' WHEN cb < 90 THEN 'D20.5.2'
     WHEN cb < 95 THEN 'D20.5.4' ELSE 'D20.5.5.a' END
"""
_BIRTH_SQL = """
CASE WHEN cb < 35 OR cb >= 95 THEN DATE '1926-01-01' + (h % (38 * 365))::int
     WHEN cb < 55 THEN DATE '1940-01-01' + (h % (50 * 365))::int
     WHEN cb < 75 THEN DATE '1940-01-01' + (h % (70 * 365))::int
     WHEN cb < 80 THEN DATE '2011-01-01' + (h % (14 * 365))::int
     WHEN cb < 82 THEN DATE '1950-01-01' + (h % (70 * 365))::int
     WHEN cb < 90 THEN DATE '1990-01-01' + (h % (20 * 365))::int
     ELSE DATE '1960-01-01' + (h % (35 * 365))::int END
"""
_CONDITIONS = ["severe:adult", "severe:child_or_elderly", "extremely_severe:adult", "extremely_severe:child_or_elderly"]
# hashes of the id: h (birth), cb (claims), rb (representation), mb (method)
_HASHES = (
    "abs(hashint8(g)::bigint) AS h, abs(hashint8(g * 3 + 1)::bigint) % 100 AS cb, "
    "abs(hashint8(g * 7 + 2)::bigint) % 100 AS rb, abs(hashint8(g * 11 + 3)::bigint) % 100 AS mb"
)


def _write_chunk(first: int, last: int, start: date, village_ids: list[tuple[int, int, str]]) -> None:
    """Beneficiaries `first`..`last` (their ids) with their claims, representatives, accounts,
    methods and payee designations: a handful of INSERT … SELECT statements."""
    from django.db import transaction

    from ansinh.policy.models import Category

    cats = dict(Category.objects.values_list("code", "id"))
    inst = _sql("SELECT id FROM payments_institution WHERE code IN ('VBA', 'VCB', 'BIDV', 'ICB') ORDER BY id")
    inst_ids = "ARRAY[" + ",".join(str(r[0]) for r in inst) + "]"
    villages = "ARRAY[" + ",".join(str(v) for v, _c, _p in village_ids) + "]"
    communes = "ARRAY[" + ",".join(str(cm) for _v, cm, _p in village_ids) + "]"
    paths = "ARRAY[" + ",".join(f"'{p}'" for _v, _c, p in village_ids) + "]"
    n_v = len(village_ids)
    family = "ARRAY['Nguyễn','Trần','Lê','Phạm','Huỳnh','Võ','Đặng','Bùi','Đỗ','Hồ']"
    middle = "ARRAY['Văn','Thị','Hữu','Minh','Ngọc','Thanh']"
    given = "ARRAY['An','Bình','Cúc','Dũng','Đào','Hoa','Lan','Minh','Nga','Phúc','Sơn','Thảo','Uyên','Yến']"
    series = f"(SELECT g, {_HASHES} FROM generate_series({first}, {last}) g) s"

    def run(statement: str, params: list | None = None) -> None:
        """No placeholders (the SQL uses % as modulo): the dates are written in as literals."""
        for value in params or ():
            statement = statement.replace("%s", f"DATE '{value.isoformat()}'", 1)
        _sql(statement)

    with transaction.atomic():
        run(
            "INSERT INTO registry_beneficiary (id, full_name, name_key, sort_key, birth_date, gender, cccd, phone, "
            "ethnicity, address, area_path, cannot_travel, no_phone, cannot_read_vietnamese, frail, start_month, "
            "status, stop_reason, quality_issues, has_issues, created_at, updated_at, commune_id, village_id, "
            "legacy_id_number) "
            f"SELECT g, nm, lower(nm), lower(nm), {_BIRTH_SQL}, CASE WHEN h % 2 = 0 THEN 'female' ELSE 'male' END, "
            "'', '', '', '', "
            f"({paths})[1 + g % {n_v}], false, false, false, false, %s, 'active', '', '[]', false, "
            f"'2025-01-01', '2025-01-01', ({communes})[1 + g % {n_v}], ({villages})[1 + g % {n_v}], '' "
            f"FROM (SELECT s.*, ({family})[1 + h % 10] || ' ' || ({middle})[1 + h / 10 % 6] || ' ' || "
            f"({given})[1 + h / 60 % 14] AS nm FROM {series}) s2",
            [start],
        )
        cond = "ARRAY[" + ",".join(f"'{x}'" for x in _CONDITIONS) + "]"
        code_ids = (
            "CASE " + " ".join(f"WHEN code = '{k}' THEN {v}" for k, v in cats.items() if k.startswith("D20")) + " END"
        )
        run(
            "INSERT INTO registry_beneficiarycategory (beneficiary_id, category_id, condition, units, fixed_key, "
            "from_month, to_month) "
            f"SELECT g, {code_ids}, CASE WHEN code = 'D20.5.6' THEN ({cond})[1 + h % 4] ELSE '' END, "
            "CASE WHEN code = 'D20.5.4' THEN 1 + h % 3 ELSE 1 END, '', %s, NULL "
            f"FROM (SELECT s.*, {_CLAIMS_SQL} AS code FROM {series}) s2",
            [start],
        )
        run(  # a second claim for 5 %
            "INSERT INTO registry_beneficiarycategory (beneficiary_id, category_id, condition, units, fixed_key, "
            f"from_month, to_month) SELECT g, {cats['D20.5.6']}, 'severe:child_or_elderly', 1, '', %s, NULL "
            f"FROM {series} WHERE cb >= 95",
            [start],
        )
        run(
            "INSERT INTO registry_representative (id, full_name, name_key, birth_date, gender, cccd, phone, "
            "area_path, created_at, updated_at, commune_id) "
            f"SELECT g, 'Người Đại Diện ' || g, 'nguoi dai dien ' || g, NULL, 'female', '', '', "
            f"({paths})[1 + g % {n_v}], '2025-01-01', '2025-01-01', ({communes})[1 + g % {n_v}] "
            f"FROM {series} WHERE rb < 23"
        )
        run(
            "INSERT INTO registry_representation (id, kind, relationship, document_number, valid_from, valid_to, "
            "is_payee, ended_at, beneficiary_id, representative_id) "
            f"SELECT g, 'authorised', 'con', '', NULL, NULL, rb < 10, NULL, g, g FROM {series} WHERE rb < 23"
        )
        run(  # payee designations: to the representative (10–15), to the beneficiary (20–22)
            "INSERT INTO payments_payeedesignation (from_month, cancelled_at, at, beneficiary_id, created_by_id, "
            f"representation_id) SELECT %s, NULL, '2025-01-01', g, NULL, CASE WHEN rb < 16 THEN g END "
            f"FROM {series} WHERE (rb >= 10 AND rb < 16) OR rb >= 20 AND rb < 23",
            [start],
        )
        run(
            "INSERT INTO payments_receivingaccount (id, kind, number_encrypted, number_hash, last4, holder_name, "
            "name_score, name_confirmed_at, status, opened_on, created_at, updated_at, beneficiary_id, "
            "created_by_id, holder_representation_id, institution_id, name_confirmed_by_id) "
            "SELECT g, 'bank', 'bench', encode(sha256(g::text::bytea), 'hex'), lpad((g % 10000)::text, 4, '0'), "
            f"'CHU TAI KHOAN ' || g, 100, NULL, 'active', NULL, '2025-01-01', '2025-01-01', g, NULL, NULL, "
            f"({inst_ids})[1 + h % {len(inst)}], NULL FROM {series} WHERE mb < 35"
        )
        run(  # an earlier pay-point method for some of the account holders
            "INSERT INTO payments_paymentmethod (method, cash_reason, from_month, cancelled_at, at, beneficiary_id, "
            "created_by_id, account_id) "
            f"SELECT 'pay_point', 'choice', %s, NULL, '2025-01-01', g, NULL, NULL FROM {series} WHERE mb < 5",
            [date(start.year - 1, start.month, 1)],
        )
        run(
            "INSERT INTO payments_paymentmethod (method, cash_reason, from_month, cancelled_at, at, beneficiary_id, "
            "created_by_id, account_id) "
            "SELECT CASE WHEN mb < 35 THEN 'account' WHEN mb < 80 THEN 'pay_point' ELSE 'home' END, "
            "CASE WHEN mb < 35 THEN '' WHEN mb < 80 THEN 'choice' ELSE 'frail' END, %s, NULL, '2025-01-01', g, "
            f"NULL, CASE WHEN mb < 35 THEN g END FROM {series} WHERE mb < 95",
            [start],
        )


def _top_up(province, size: int) -> int:
    """Top the province up to `size` beneficiaries (the base population, start 2025-01)."""
    from ansinh.areas.models import Area, Level

    have = _sql("SELECT count(*) FROM registry_beneficiary WHERE area_path LIKE %s", [province.path + "%"])[0][0]
    if have >= size:
        c.say(f"province {CODE}: {have:,} beneficiaries (reused)")
        return have
    village_ids = [
        (v.pk, v.parent_id, v.path)
        for v in Area.objects.filter(path__startswith=province.path, level=Level.VILLAGE).order_by("id")
    ]
    c.say(f"province {CODE}: {have:,} beneficiaries; writing up to {size:,} …")
    started, first_have = time.monotonic(), have
    while have < size:
        n = min(CHUNK, size - have)
        base = _max_id() + 1
        _write_chunk(base, base + n - 1, date(2025, 1, 1), village_ids)
        have += n
        rate = (have - first_have) / max(time.monotonic() - started, 1e-9)
        c.say(f"  {have:,} written ({rate:,.0f} rows/s)")
    _fix_sequences()
    return have


def _max_id() -> int:
    return max(
        _sql(f"SELECT COALESCE(max(id), 0) FROM {t}")[0][0]  # noqa: S608
        for t in (
            "registry_beneficiary",
            "registry_representative",
            "registry_representation",
            "payments_receivingaccount",
        )
    )


def _fix_sequences() -> None:
    for table in (
        "registry_beneficiary",
        "registry_representative",
        "registry_representation",
        "payments_receivingaccount",
    ):
        _sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(max(id), 1) FROM {table}))")  # noqa: S608


def _analyze() -> None:
    for table in (
        "registry_beneficiary",
        "registry_beneficiarycategory",
        "registry_representation",
        "registry_representative",
        "payments_paymentmethod",
        "payments_payeedesignation",
        "payments_receivingaccount",
        "payroll_payrollline",
        "payroll_paidmonth",
    ):
        _sql(f"VACUUM ANALYZE {table}")


def _cycle(province, month: date):
    from ansinh.payroll.models import PaymentCycle
    from ansinh.payroll.services import open_cycles
    from ansinh.policy.models import Category

    open_cycles(actor=None, month=month, area=province)
    programme_id = Category.objects.get(code="D20.5.5.c").programme_id
    return PaymentCycle.objects.get(month=month, area=province, programme_id=programme_id)


def _set_state(cycle, state: str) -> None:
    from ansinh.payroll.models import PaymentCycle

    PaymentCycle.objects.filter(pk=cycle.pk).update(state=state)
    cycle.refresh_from_db()


def _previous_month(province, size: int) -> None:
    """Generate and approve the previous month (shortcut), then add the late arrivals (arrears)
    and the deaths before it (recoveries). Done once: a database that has it is reused."""
    from ansinh.areas.models import Area, Level
    from ansinh.payroll.adjustments import record_paid_months
    from ansinh.payroll.generation import generate_payroll
    from ansinh.payroll.models import CycleState, PayrollRun

    previous = _cycle(province, PREVIOUS)
    run = PayrollRun.objects.filter(cycle=previous).first()
    if previous.state == CycleState.APPROVED and run is not None and run.lines >= 0.9 * size:
        c.say(f"previous month: approved, {run.lines:,} lines (reused)")
        return
    _sql(  # a smaller previous run: made again
        "DELETE FROM payroll_paidmonth WHERE line_id IN (SELECT id FROM payroll_payrollline WHERE cycle_id = %s)",
        [previous.pk],
    )
    _sql("DELETE FROM payroll_payrollline WHERE cycle_id = %s", [previous.pk])
    _set_state(previous, CycleState.APPRAISED)
    took, summary = _timed(generate_payroll, actor=None, cycle=previous)
    c.say(f"previous month {PREVIOUS:%m/%Y}: {summary['lines']:,} lines generated in {took:.1f} s")
    _set_state(previous, CycleState.APPROVED)
    paid = record_paid_months(previous)
    c.say(f"  approved (shortcut), {paid:,} paid months recorded")
    village_ids = [
        (v.pk, v.parent_id, v.path)
        for v in Area.objects.filter(path__startswith=province.path, level=Level.VILLAGE).order_by("id")
    ]
    late = max(1, int(size * LATE_SHARE))
    base = _max_id() + 1
    _write_chunk(base, base + late - 1, BEFORE, village_ids)  # a decision backdated two months: arrears
    _sql("UPDATE registry_beneficiary SET updated_at = now() WHERE id >= %s", [base])
    _fix_sequences()
    dead = max(1, int(size * DEAD_SHARE))
    _sql(  # died in the month before last: the previous month was paid after death
        "UPDATE registry_beneficiary SET status = 'stopped', stop_reason = 'died', death_date = %s, "
        "end_month = %s, updated_at = now() WHERE id IN (SELECT id FROM registry_beneficiary "
        "WHERE area_path LIKE %s AND id < %s ORDER BY abs(hashint8(id * 13 + 5)) LIMIT %s)",
        [date(BEFORE.year, BEFORE.month, 15), BEFORE, province.path + "%", base, dead],
    )
    lowered = max(1, int(size * LOWERED_SHARE))
    _sql(  # a decision lowers the amount from the previous month on (paid too much: recovered now)
        "CREATE TEMPORARY TABLE bench_lowered AS SELECT bc.id, bc.beneficiary_id FROM registry_beneficiarycategory bc "
        "JOIN policy_category pc ON pc.id = bc.category_id JOIN registry_beneficiary b ON b.id = bc.beneficiary_id "
        "WHERE pc.code = 'D20.5.5.a' AND b.area_path LIKE %s AND b.status = 'active' AND b.id < %s "
        "AND NOT EXISTS (SELECT 1 FROM registry_beneficiarycategory o WHERE o.beneficiary_id = b.id AND o.id <> bc.id) "
        "ORDER BY abs(hashint8(b.id * 17 + 7)) LIMIT %s",
        [province.path + "%", base, lowered],
    )
    _sql("UPDATE registry_beneficiarycategory SET to_month = %s WHERE id IN (SELECT id FROM bench_lowered)", [BEFORE])
    _sql(
        "INSERT INTO registry_beneficiarycategory (beneficiary_id, category_id, condition, units, fixed_key, "
        "from_month, to_month) SELECT beneficiary_id, (SELECT id FROM policy_category WHERE code = 'D20.5.5.c'), "
        "'', 1, '', %s, NULL FROM bench_lowered",
        [PREVIOUS],
    )
    _sql("UPDATE registry_beneficiary SET updated_at = now() WHERE id IN (SELECT beneficiary_id FROM bench_lowered)")
    _sql("DROP TABLE bench_lowered")
    c.say(f"  then {lowered:,} amounts lowered from {PREVIOUS:%m/%Y} (decided late: recoveries)")
    c.say(f"  then {late:,} late arrivals (start {BEFORE:%m/%Y}) and {dead:,} deaths in {BEFORE:%m/%Y}")


# --- the measurements ------------------------------------------------------------------------------


def _floor_table() -> None:
    """bench_floor_lines: a copy of payroll_payrollline with the same checks, unique constraints,
    indexes and foreign keys (deferred, as Django makes them)."""
    _sql("DROP TABLE IF EXISTS bench_floor_lines")
    _sql("CREATE TABLE bench_floor_lines (LIKE payroll_payrollline INCLUDING ALL)")
    for name, definition in _sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'payroll_payrollline'::regclass AND contype = 'f'"
    ):
        _sql(f"ALTER TABLE bench_floor_lines ADD CONSTRAINT bench_{name} {definition}")


def _timed_insert(statement: str, params: list) -> float:
    """One INSERT … SELECT into bench_floor_lines in its own transaction, committed (the deferred
    foreign-key checks run at the commit), timed; the table is dropped after."""
    from django.db import connection, transaction

    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement, params)
    took = time.monotonic() - started
    _sql("DROP TABLE bench_floor_lines")
    return took


_FLOOR_COLUMNS = (
    "cycle_id, beneficiary_id, line_type, amount, representation_id, payee_name, channel, account_id, "
    "account_institution, account_last4, account_holder, area_path, commune_id, basis, months, created_at"
)


def _floor(province, rows: int) -> float:
    """The plain floor: one INSERT … SELECT of `rows` lines read from the registry, with constant
    values (no payee, no account: their foreign keys are not checked)."""
    _floor_table()
    cycle_id = _sql("SELECT min(id) FROM payroll_paymentcycle")[0][0]
    basis = json.dumps(
        {"category": "D20.5.5.a", "categories": ["D20.5.5.a"], "explanation": "500.000 ₫ × 1,5", "sensitive": False}
    )
    return _timed_insert(
        f"INSERT INTO bench_floor_lines ({_FLOOR_COLUMNS}) "  # noqa: S608
        "SELECT %s, b.id, 'regular', 750000, NULL, b.full_name, 'pay_point', NULL, '', '', '', b.area_path, "
        "b.commune_id, %s::jsonb, '{}', now() FROM registry_beneficiary b "
        "WHERE b.area_path LIKE %s ORDER BY b.id LIMIT %s",
        [cycle_id, basis, province.path + "%", rows],
    )


def _floor_same(cycle) -> float:
    """The same-rows floor: one INSERT … SELECT of exactly the rows the generation wrote (copied
    from the cycle's lines, every value included), so that the same foreign keys (payee
    representations, accounts), the same index entries and the same widths are written."""
    _floor_table()
    return _timed_insert(
        f"INSERT INTO bench_floor_lines ({_FLOOR_COLUMNS}) "  # noqa: S608
        f"SELECT {_FLOOR_COLUMNS} FROM payroll_payrollline WHERE cycle_id = %s ORDER BY beneficiary_id, line_type",
        [cycle.pk],
    )


def _fresh(cycle) -> None:
    """The cycle appraised with no draft: what the first generation of the month finds."""
    from ansinh.payroll.models import CycleState, PayrollRun

    _sql("DELETE FROM payroll_payrollline WHERE cycle_id = %s", [cycle.pk])
    PayrollRun.objects.filter(cycle=cycle).delete()
    _set_state(cycle, CycleState.APPRAISED)


def sizes(province) -> dict:
    p = province.path + "%"
    keys = ("beneficiaries", "active", "claims", "representations", "accounts", "methods", "designations", "lines")
    row = _sql(
        "SELECT (SELECT count(*) FROM registry_beneficiary WHERE area_path LIKE %s), "
        "(SELECT count(*) FROM registry_beneficiary WHERE area_path LIKE %s AND status = 'active'), "
        "(SELECT count(*) FROM registry_beneficiarycategory), (SELECT count(*) FROM registry_representation), "
        "(SELECT count(*) FROM payments_receivingaccount), (SELECT count(*) FROM payments_paymentmethod), "
        "(SELECT count(*) FROM payments_payeedesignation), (SELECT count(*) FROM payroll_payrollline)",
        [p, p],
    )[0]
    return dict(zip(keys, row, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    url = c.database_url()
    c.prepare(url)
    c.setup_django(url)
    c.header(f"Payroll generation, {args.size:,} beneficiaries")
    c.say(f"   {c.postgres_version()}")

    from ansinh.payroll.generation import compare_with_previous, generate_payroll

    _policy()
    province = _tree()
    setup_started = time.monotonic()
    _top_up(province, args.size)
    _analyze()
    _previous_month(province, args.size)
    cycle = _cycle(province, MONTH)
    _fresh(cycle)
    _analyze()
    c.say(f"setup {time.monotonic() - setup_started:.0f} s")
    for k, v in sizes(province).items():
        c.say(f"   {k:<16}{v:>12,}")

    gen_s, summary = _timed(generate_payroll, actor=None, cycle=cycle)
    rows = summary["lines"]
    floor_s = _floor(province, rows)
    same_s = _floor_same(cycle)
    regen_s, again = _timed(generate_payroll, actor=None, cycle=cycle)
    floor2_s = _floor(province, rows)
    same2_s = _floor_same(cycle)
    plain = min(floor_s, floor2_s)
    floor = min(same_s, same2_s)
    compare_s, comparison = _timed(compare_with_previous, cycle)
    peak = _rss()

    per_type = {k: v["lines"] for k, v in summary["per_line_type"].items()}
    per_channel = {k: v["lines"] for k, v in summary["per_channel"].items()}
    c.say(f"\nlines {rows:,}  {json.dumps(per_type)}  {json.dumps(per_channel)}")
    stats = {k: summary.get(k) for k in ("evaluations", "without_entitlement", "without_method")}
    c.say(f"   {json.dumps(stats)}  total {summary['total_amount']:,} đ")
    c.say(f"plain floor: INSERT … SELECT of {rows:,} rows   {floor_s:7.2f} s, again {floor2_s:7.2f} s")
    c.say(f"same-rows floor (the targets' floor)      {same_s:7.2f} s, again {same2_s:7.2f} s (used: {floor:.2f})")
    results = {
        "generation": gen_s / floor <= TARGET_RATIO,
        "re-generation": regen_s / floor <= TARGET_RATIO,
        "peak memory": peak / 1024 / 1024 < TARGET_MB,
        "comparison": compare_s < TARGET_COMPARE_S,
    }

    def verdict(key: str) -> str:
        return "PASS" if results[key] else "FAIL"

    c.say(
        f"generation                          {gen_s:7.2f} s  {gen_s / floor:5.2f}× floor  {verdict('generation')}"
        f"  ({gen_s / plain:.2f}× the plain floor)"
    )
    c.say(
        f"re-generation (replaces {again['replaced_lines']:,})  {regen_s:7.2f} s  {regen_s / floor:5.2f}× floor  "
        f"{verdict('re-generation')}  ({regen_s / plain:.2f}× the plain floor)"
    )
    target = f"(target < {TARGET_COMPARE_S:.0f} s)"
    c.say(f"comparison with last month          {compare_s:7.2f} s  {target} {verdict('comparison')}")
    c.say(f"   {json.dumps(comparison['counts'])}")
    c.say(f"peak memory (ru_maxrss)             {c.mb(peak)}  (target < {TARGET_MB} MB) {verdict('peak memory')}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "size": args.size,
                    "lines": rows,
                    "floor_s": [same_s, same2_s],
                    "plain_floor_s": [floor_s, floor2_s],
                    "generation_s": gen_s,
                    "regeneration_s": regen_s,
                    "comparison_s": compare_s,
                    "peak_rss_mb": peak / 1024 / 1024,
                    "per_line_type": per_type,
                    "counts": comparison["counts"],
                    "results": results,
                },
                indent=2,
            )
        )
    ok = all(results.values())
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
