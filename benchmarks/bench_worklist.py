"""Worklist and verification benchmark: a province of N synthetic beneficiaries (default
1,000,000) on PostgreSQL, with the synthetic payment data `load_demo --size` makes.

Timed, through the real code:
  (a) refresh, cold      ansinh.quality.services.refresh(area=province) on an empty worklist:
                         every problem of the province is found and inserted
  (a) refresh, again     the same refresh straight after: nothing changes (the steady state)
  (b) verification       ansinh.verification.services.run_verification for every commune of the
                         province with the sandbox adapter (it runs per commune: the loop's total)
  (c) refresh after (b)  the items the verification opens (mismatch, not found, deceased) and
                         closes (unverified)
  (d) one commune        refresh(area=commune) of the largest commune: what opening the
                         worklist page costs
and, measured in the same run, two floors: reading the province's beneficiaries once
(`SELECT count(*) … WHERE area_path LIKE province%`) for the refreshes, and reading them in the
verification's 500-row keyset pages without asking anything or writing for (b). Each time is
printed with its ratio to its floor, and the peak memory of this process (ru_maxrss).

The registry is made with `manage.py load_demo --size N --province 89 --tree legacy` (chunked),
which only tops the province up: a loaded database is reused. The synthetic population register
the sandbox answers from is built, or topped up when the registry has grown past it
(`build_synthetic_register`, incremental, timed as setup). Each run
starts from an empty worklist and no verification runs in the province.

  DATABASE_URL=postgres://…/ansinh_bench python benchmarks/bench_worklist.py [--size 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

TARGET_REFRESH_S = 60  # "a province of a million refreshes in seconds, not minutes"


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def ensure_registry(url: str, size: int):
    from ansinh.areas.models import Area, Level, Tree
    from ansinh.registry.models import Beneficiary

    province = Area.objects.filter(tree=Tree.LEGACY, level=Level.PROVINCE, code=c.PROVINCE).first()
    have = Beneficiary.objects.filter(area_path__startswith=province.path).count() if province else 0
    if have < size:
        c.say(f"loading the registry: {have:,} → {size:,} beneficiaries (load_demo --size {size}) …")
        s = c.manage(url, "load_demo", "--size", str(size), "--province", c.PROVINCE, "--tree", c.PROVINCE_TREE)
        c.say(f"loaded in {s:.0f} s")
        province = Area.objects.get(tree=Tree.LEGACY, level=Level.PROVINCE, code=c.PROVINCE)
    else:
        c.say(f"registry already holds {have:,} beneficiaries in the province: reused")
    return province


def ensure_register() -> float | None:
    """Build or top up the synthetic register (build_synthetic_register is incremental) when the
    registry holds people with a CCCD it does not know beyond the ~3% it leaves out on purpose:
    a register built for a smaller run would make most checks come back "not found"."""
    from django.db import connection

    from ansinh.verification.services import build_synthetic_register

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS "
            "(SELECT 1 FROM verification_syntheticresident r WHERE r.cccd = p.cccd)) FROM "
            "(SELECT cccd FROM registry_beneficiary WHERE cccd <> '' AND birth_date IS NOT NULL UNION ALL "
            "SELECT cccd FROM registry_representative WHERE cccd <> '' AND birth_date IS NOT NULL "
            "AND gender IN ('male', 'female')) p"
        )
        people, unknown = cur.fetchone()
    if unknown <= 0.05 * people:
        c.say(f"synthetic population register: reused ({unknown:,} of {people:,} people unknown to it)")
        return None
    c.say(f"topping up the synthetic population register ({unknown:,} of {people:,} people unknown to it) …")
    started = time.monotonic()
    added = build_synthetic_register()
    took = time.monotonic() - started
    c.say(f"  {added:,} residents in {took:.1f} s")
    return took


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for table in (
            "registry_beneficiary",
            "registry_representation",
            "payments_paymentmethod",
            "payments_payeedesignation",
            "payments_receivingaccount",
            "verification_verificationresult",
            "verification_syntheticresident",
            "quality_worklistitem",
            "audit_auditevent",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")


def reset(province) -> None:
    """An empty worklist and no verification of the province: every run measures the same."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM quality_worklistitem WHERE area_path LIKE %s", [province.path + "%"])
        cur.execute(
            "DELETE FROM verification_verificationresult WHERE run_id IN "
            "(SELECT id FROM verification_verificationrun WHERE area_path LIKE %s)",
            [province.path + "%"],
        )
        cur.execute("DELETE FROM verification_verificationrun WHERE area_path LIKE %s", [province.path + "%"])


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    out = fn(*args, **kwargs)
    return time.monotonic() - started, out


def scan_floor(province) -> float:
    from django.db import connection

    with connection.cursor() as cur:
        started = time.monotonic()
        cur.execute(
            "SELECT count(*), count(DISTINCT commune_id) FROM registry_beneficiary WHERE area_path LIKE %s",
            [province.path + "%"],
        )
        cur.fetchone()
        return time.monotonic() - started


def verification_floor(communes) -> float:
    """The verification's reads alone: the same 500-row keyset pages, no adapter, no writes."""
    from ansinh.registry.models import Beneficiary, Representative
    from ansinh.verification.services import _FIELDS, _chunks

    started = time.monotonic()
    for commune in communes:
        for qs in (
            Beneficiary.objects.filter(area_path__startswith=commune.path, status__in=("active", "suspended")),
            Representative.objects.filter(area_path__startswith=commune.path),
        ):
            for _rows in _chunks(qs.exclude(cccd="").exclude(birth_date__isnull=True), _FIELDS):
                pass
    return time.monotonic() - started


def verify_province(communes) -> tuple[float, dict]:
    from ansinh.verification.services import run_verification

    totals = {"runs": 0, "checked": 0, "mismatch": 0, "not_found": 0, "deceased": 0}
    started = time.monotonic()
    for commune in communes:
        run = run_verification(actor=None, commune=commune, adapter_name="sandbox")
        totals["runs"] += 1
        totals["checked"] += run.checked
        totals["mismatch"] += run.mismatched
        totals["not_found"] += run.not_found
        totals["deceased"] += run.deceased
    return time.monotonic() - started, totals


def sizes(province) -> dict:
    from django.db import connection

    p = province.path + "%"
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM registry_beneficiary WHERE area_path LIKE %s), "
            "(SELECT count(*) FROM payments_paymentmethod m JOIN registry_beneficiary b ON b.id = m.beneficiary_id "
            " WHERE b.area_path LIKE %s), "
            "(SELECT count(*) FROM payments_receivingaccount a JOIN registry_beneficiary b ON b.id = a.beneficiary_id "
            " WHERE b.area_path LIKE %s), "
            "(SELECT count(*) FROM registry_representation r JOIN registry_beneficiary b ON b.id = r.beneficiary_id "
            " WHERE b.area_path LIKE %s), "
            "(SELECT count(*) FROM verification_syntheticresident), "
            "(SELECT count(*) FROM audit_auditevent)",
            [p, p, p, p],
        )
        keys = ("beneficiaries", "payment methods", "accounts", "representations", "residents", "audit events")
        return dict(zip(keys, cur.fetchone(), strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--commune-samples", type=int, default=5)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    url = c.database_url()
    c.prepare(url)
    c.setup_django(url)
    c.header(f"Worklist refresh and identity verification, {args.size:,} beneficiaries")
    c.say(f"   {c.postgres_version()}")

    from django.db.models import Count

    from ansinh.areas.models import Area, Level
    from ansinh.quality.services import refresh
    from ansinh.registry.models import Beneficiary

    province = ensure_registry(url, args.size)
    register_s = ensure_register()
    reset(province)
    analyze()
    for k, v in sizes(province).items():
        c.say(f"   {k:<18}{v:>12,}")
    communes = list(Area.objects.filter(level=Level.COMMUNE, path__startswith=province.path).order_by("path"))
    biggest_id = (
        Beneficiary.objects.filter(area_path__startswith=province.path)
        .values("commune_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("commune_id", "n")[:1]
    )[0]
    biggest = Area.objects.get(pk=biggest_id[0])

    floor_s = min(scan_floor(province) for _ in range(3))
    c.say(f"\nfloor: reading the province once      {floor_s:8.2f} s")

    cold_s, cold = timed(refresh, area=province)
    analyze()
    again_s, again = timed(refresh, area=province)
    c.say(f"(a) refresh, cold (all new)           {cold_s:8.2f} s  {cold_s / floor_s:6.1f}× floor")
    c.say(f"    items opened: {sum(cold['opened'].values()):,}  {json.dumps(cold['opened'])}")
    c.say(f"(a) refresh again (nothing changes)   {again_s:8.2f} s  {again_s / floor_s:6.1f}× floor")
    c.say(f"    opened {sum(again['opened'].values())}, closed {sum(again['closed'].values())}")

    vfloor_s = verification_floor(communes)
    c.say(f"\nfloor: verification's reads alone     {vfloor_s:8.2f} s ({len(communes)} communes)")
    verify_s, totals = verify_province(communes)
    c.say(f"(b) verification of the province      {verify_s:8.2f} s  {verify_s / vfloor_s:6.1f}× floor")
    c.say(f"    {json.dumps(totals)}  ({totals['checked'] / verify_s:,.0f} people/s)")
    analyze()

    after_s, after = timed(refresh, area=province)
    c.say(f"\n(c) refresh after verification        {after_s:8.2f} s  {after_s / floor_s:6.1f}× floor")
    c.say(f"    opened {json.dumps(after['opened'])}")
    c.say(f"    closed {json.dumps(after['closed'])}")

    samples = []
    for _ in range(args.commune_samples):
        s, _out = timed(refresh, area=biggest)
        samples.append(s * 1000)
    stats = c.percentiles(samples)
    c.say(
        f"(d) one commune ({biggest_id[1]:,} people)     p50 {stats['p50']:7.0f} ms  max {stats['max']:7.0f} ms "
        "(the worklist page's refresh)"
    )
    peak = _rss()
    c.say(f"\npeak memory (this process, ru_maxrss): {c.mb(peak)}")
    ok = max(cold_s, again_s, after_s) < TARGET_REFRESH_S
    c.say(
        f"target: a province refresh under {TARGET_REFRESH_S} s — "
        f"{'OK' if ok else 'MISSED'} (slowest {max(cold_s, again_s, after_s):.1f} s)"
    )
    c.say(f"open items now: {json.dumps(after['open'])}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "size": args.size,
                    "register_s": register_s,
                    "floor_s": floor_s,
                    "refresh_cold_s": cold_s,
                    "refresh_again_s": again_s,
                    "verification_floor_s": vfloor_s,
                    "verification_s": verify_s,
                    "verification": totals,
                    "refresh_after_s": after_s,
                    "commune_ms": stats,
                    "peak_rss_mb": peak / 1024 / 1024,
                    "open": after["open"],
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
