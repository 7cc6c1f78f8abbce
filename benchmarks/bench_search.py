"""Search benchmark: a registry of 1,000,000 synthetic beneficiaries in one province, searched
by a province-level user (province monitor, so the area scoping applies) through the real code
path, evaluated as the list screen and `GET /api/v1/beneficiaries` evaluate it:

    results = registry.queries.search(user, SearchParams(...))   # ranked for a name
    count = queries.count_upto(results, COUNT_CAP)               # exact up to 10,000
    rows = results.select_related(...).prefetch_related(current categories)[:51]

Each sample calls the API endpoint function itself (`ansinh.api.registry.list_beneficiaries`)
with a fresh permission cache, as a new request would, and is timed end to end (all queries,
shaping of the 50 items). The (capped) count and the page are also timed on their own, and so
is an exact `COUNT(*)`, for information: what the count cost before it was capped.

Searches (random samples of real rows each):
  cccd         q = a 12-digit CCCD of a random beneficiary
  name prefix  q = an accent-free name prefix as typed, e.g. "nguyen thi a" (family name,
               middle name, first letter of the given name), taken from a random beneficiary
  village      area = a random village of the province
and, for information (no target): "full name" (q = a whole accent-free name), "given name"
(q = one given name, found as any word of the name) and "whole province" (no filter: the
first page of the province, what the list shows before anything is typed). Without a name the
rows are in Vietnamese list order (sort_key, id: registry migration 0007), so "village" and
"whole province" measure that order: the whole province reads it from the (sort_key, id)
b-tree, a village sorts its rows found by the (village, name_key) index.

The registry is made with `manage.py load_demo --size N --province 89` (chunked, bounded
memory), which only tops the province up: a loaded database is reused.

  python benchmarks/bench_search.py [--size 1000000] [--samples 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

TARGET_MS = 100
TARGETED = ("cccd", "name prefix", "village")


def ensure_registry(url: str, size: int) -> dict:
    """Top the province up to `size` beneficiaries; ANALYZE after a load."""
    from ansinh.areas.models import Area, Level, Tree
    from ansinh.registry.models import Beneficiary

    province = Area.objects.filter(tree=Tree.LEGACY, level=Level.PROVINCE, code=c.PROVINCE).first()
    have = Beneficiary.objects.filter(area_path__startswith=province.path).count() if province else 0
    load_s = None
    if have < size:
        c.say(f"loading the registry: {have:,} → {size:,} beneficiaries (load_demo --size {size}) …")
        load_s = c.manage(url, "load_demo", "--size", str(size), "--province", c.PROVINCE, "--tree", c.PROVINCE_TREE)
        c.say(f"loaded in {load_s:.0f} s")
        _analyze()
    else:
        c.say(f"registry already holds {have:,} beneficiaries in the province: reused")
    return {"loaded_s": load_s}


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for table in ("registry_beneficiary", "registry_beneficiarycategory", "areas_area", "accounts_roleassignment"):
            cur.execute(f"VACUUM ANALYZE {table}")


def sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM registry_beneficiary), "
            "pg_table_size('registry_beneficiary'), pg_indexes_size('registry_beneficiary'), "
            "(SELECT count(*) FROM registry_beneficiarycategory), "
            "(SELECT count(*) FROM registry_representation), pg_database_size(current_database())"
        )
        rows, table, indexes, cats, reps, database = cur.fetchone()
        cur.execute(
            "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE relname = 'registry_beneficiary' ORDER BY 2 DESC"
        )
        per_index = cur.fetchall()
    return {
        "beneficiaries": rows,
        "table_bytes": table,
        "index_bytes": indexes,
        "categories": cats,
        "representations": reps,
        "database_bytes": database,
        "indexes": per_index,
    }


def province_user():
    from ansinh.accounts.models import RoleAssignment, User
    from ansinh.accounts.roles import Role
    from ansinh.areas.models import Area, Level, Tree

    province = Area.objects.get(tree=Tree.LEGACY, level=Level.PROVINCE, code=c.PROVINCE)
    user, _ = User.objects.get_or_create(username="bench_province_monitor", defaults={"full_name": "Benchmark monitor"})
    RoleAssignment.objects.get_or_create(user=user, role=Role.PROVINCE_MONITOR, area=province, revoked_at=None)
    return user, province


def samples(province, n: int, rng: random.Random) -> dict[str, list[dict]]:
    """Search inputs drawn from random rows of the registry (random ids, not ORDER BY random())."""
    from django.db.models import Max, Min

    from ansinh.areas.models import Area, Level
    from ansinh.registry.models import Beneficiary

    scoped = Beneficiary.objects.filter(area_path__startswith=province.path)
    bounds = scoped.aggregate(lo=Min("id"), hi=Max("id"))
    picked: list[tuple[str, str]] = []
    while len(picked) < 3 * n:
        ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(3 * n)]
        picked += list(scoped.filter(id__in=ids).exclude(cccd="").values_list("cccd", "name_key"))
    rng.shuffle(picked)
    cccds = [cccd for cccd, _key in picked[:n]]
    prefixes, given, full = [], [], []
    for _cccd, key in picked[n:]:
        words = key.split()
        if len(words) >= 3 and len(prefixes) < n:
            prefixes.append(" ".join(words[:2]) + " " + words[2][0])  # "nguyen thi a"
        elif len(words) >= 2 and len(given) < n:
            given.append(words[-1])  # any word of the name starts with …
        if len(full) < n:
            full.append(key)
    villages = list(
        Area.objects.filter(path__startswith=province.path, level=Level.VILLAGE).values_list("pk", flat=True)
    )
    return {
        "cccd": [{"q": x} for x in cccds],
        "name prefix": [{"q": x} for x in prefixes[:n]],
        "village": [{"area": rng.choice(villages)} for _ in range(n)],
        "full name": [{"q": x} for x in full[: max(20, n // 4)]],
        "given name": [{"q": x} for x in given[: max(20, n // 4)]],
        "whole province": [{} for _ in range(max(10, n // 20))],
    }


def measure(user, inputs: list[dict]) -> dict:
    """Time the list endpoint (end to end) and, separately, its count and its first page."""
    from ansinh.accounts import access
    from ansinh.api import registry as api
    from ansinh.api.schemas_registry import BeneficiaryFilters
    from ansinh.registry import queries

    request = SimpleNamespace(auth=user)
    total, count_ms, exact_ms, page_ms, found, capped = [], [], [], [], [], 0
    for params in inputs:
        access.forget(user)  # a new request loads the user's roles again
        t0 = time.perf_counter()
        answer = api.list_beneficiaries(request, BeneficiaryFilters(**params))
        total.append((time.perf_counter() - t0) * 1000)
        found.append(answer["count"])
        capped += not answer["count_exact"]

        search = queries.SearchParams(q=params.get("q", ""), area=params.get("area"))

        def results(search=search):  # a new one each time: a RankedResults keeps the sizes it counted
            return queries.search(user, search)

        t0 = time.perf_counter()
        queries.count_upto(results(), queries.COUNT_CAP)  # the count the API and the list screen run
        count_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        results().count()  # an exact COUNT(*), for information: what the count cost before the cap
        exact_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        list(results().select_related("commune", "village").prefetch_related(api._current_categories())[:51])
        page_ms.append((time.perf_counter() - t0) * 1000)
    found.sort()
    return {
        "total": c.percentiles(total),
        "count": c.percentiles(count_ms),
        "exact_count": c.percentiles(exact_ms),
        "page": c.percentiles(page_ms),
        "rows_found_median": found[len(found) // 2],
        "rows_found_max": found[-1],
        "counts_capped": capped,
    }


def explain(user, params: dict) -> str:
    from django.db import connection

    from ansinh.registry import queries

    results = queries.search(user, queries.SearchParams(**params))
    parts = results.parts if isinstance(results, queries.RankedResults) else [results]
    out = []
    with connection.cursor() as cur:
        for i, qs in enumerate(parts):
            sql, args = qs[:51].query.sql_with_params()
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, args)
            out.append(f"-- first page, part {i + 1} of {len(parts)}\n" + "\n".join(r[0] for r in cur.fetchall()))
            sql, args = qs.order_by().values("pk")[: queries.COUNT_CAP + 1].query.sql_with_params()
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (" + sql + ") t", args)
            out.append(f"-- capped count, part {i + 1}\n" + "\n".join(r[0] for r in cur.fetchall()))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="beneficiaries wanted in the province")
    parser.add_argument("--samples", type=int, default=200, help="searches per kind")
    parser.add_argument("--seed", default="bench-search")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of one search per kind")
    args = parser.parse_args(argv)

    url = c.database_url()
    c.header(Path(__file__).stem)
    c.prepare(url)
    c.setup_django(url)
    loaded = ensure_registry(url, args.size)
    from ansinh.registry import queries

    user, province = province_user()
    s = sizes()
    c.say(
        f"{c.postgres_version()}; registry_beneficiary: {s['beneficiaries']:,} rows, table {c.mb(s['table_bytes'])}, "
        f"indexes {c.mb(s['index_bytes'])}; {s['categories']:,} categories held, "
        f"{s['representations']:,} representations; database {c.mb(s['database_bytes'])}"
    )
    c.say("  indexes: " + ", ".join(f"{name} {c.mb(size)}" for name, size in s["indexes"]))
    rng = random.Random(args.seed)
    inputs = samples(province, args.samples, rng)
    measure(user, inputs["cccd"][:10] + inputs["village"][:10])  # warm the connection and caches
    results: dict[str, dict] = {}
    c.say(
        f"user: province monitor of {province.full_name}; page of 50 rows + count up to "
        f"{queries.COUNT_CAP:,}, as the list/API does ('capped': samples with more rows than that)"
    )
    c.say(
        f"  {'search':<15}{'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   "
        f"{'count p95':>9} {'page p95':>9} {'exact count p95':>15}  rows found (median / max; capped)"
    )
    for kind, items in inputs.items():
        r = measure(user, items)
        results[kind] = r
        t = r["total"]
        mark = ""
        if kind in TARGETED:
            mark = "OK" if t["p95"] < TARGET_MS else f"MISSED (target p95 < {TARGET_MS} ms)"
        c.say(
            f"  {kind:<15}{t['n']:>5} {t['p50']:>6.1f}ms {t['p95']:>6.1f}ms {t['p99']:>6.1f}ms {t['max']:>6.1f}ms   "
            f"{r['count']['p95']:>7.1f}ms {r['page']['p95']:>7.1f}ms {r['exact_count']['p95']:>13.1f}ms  "
            f"{r['rows_found_median']:,} / {r['rows_found_max']:,}; {r['counts_capped']}  {mark}"
        )
    if args.explain:
        for kind in ("cccd", "name prefix", "village", "whole province"):
            c.say(f"\n== EXPLAIN {kind}: {inputs[kind][0]}")
            c.say(explain(user, inputs[kind][0]))
    ok = all(results[k]["total"]["p95"] < TARGET_MS for k in TARGETED)
    return {"sizes": s, "results": results, "ok": ok, **loaded}


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
