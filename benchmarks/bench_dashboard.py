"""The dashboard's figures (`registry.stats.commune_figures`) on a province of a million
beneficiaries, as a province monitor (a table of every commune) and as a commune officer.

The registry is synthetic and written set-based by this script into a province of its own
(current tree, code BENCHDASH, 100 communes of 5 villages), so it does not depend on the demo
loader: beneficiaries through `core.bulk.insert_rows` (COPY), one status-history row each
(their start), and the month's changes spread as a commune sees them: about 1 % started this
month, 0.5 % stopped this month, 8 % stopped earlier, 2 % suspended, 3 % with data-quality
issues; a few imports running and moves pending. Re-running tops the province up to --size.

    python benchmarks/bench_dashboard.py [--size 1000000] [--samples 30] [--explain]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

from _common import database_url, header, percentiles, prepare, say, setup_django

CODE = "BENCHDASH"
COMMUNES = 100
VILLAGES = 5
CHUNK = 20_000


def _tree():
    from ansinh.areas.models import Area, Level, Tree

    province, _ = Area.objects.get_or_create(
        tree=Tree.CURRENT, code=CODE, defaults={"level": Level.PROVINCE, "name": "Thử nghiệm số liệu"}
    )
    communes = list(Area.objects.filter(parent=province, level=Level.COMMUNE).order_by("id"))
    for i in range(len(communes), COMMUNES):
        commune = Area.objects.create(
            tree=Tree.CURRENT, level=Level.COMMUNE, code=f"{CODE}{i:03d}", name=f"Xã Số {i + 1}", parent=province
        )
        for v in range(VILLAGES):
            Area.objects.create(tree=Tree.CURRENT, level=Level.VILLAGE, name=f"Ấp {v + 1}", parent=commune)
        communes.append(commune)
    villages: dict[int, list] = {}
    for v in Area.objects.filter(parent__in=communes, level=Level.VILLAGE).order_by("id"):
        villages.setdefault(v.parent_id, []).append(v)
    return province, communes, villages


def _top_up(province, communes, villages, size: int) -> None:
    from django.db import transaction

    from ansinh.core.bulk import insert_rows
    from ansinh.core.text import search_key
    from ansinh.registry.models import Beneficiary, ImportJob, ImportStatus, Status, StatusChange
    from ansinh.registry.queries import this_month
    from ansinh.registry.rules import add_months

    have = Beneficiary.objects.filter(area_path__startswith=province.path).count()
    say(f"province {CODE}: {have:,} beneficiaries; target {size:,}")
    month = this_month()
    rng = random.Random(have)
    given = ["An", "Bình", "Cúc", "Dũng", "Đào", "Hoa", "Lan", "Minh", "Nga", "Phúc", "Sơn", "Thảo", "Uyên", "Yến"]
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi"]
    started, first = time.monotonic(), have
    while have < size:
        n = min(CHUNK, size - have)
        rows, history = [], []
        for i in range(n):
            commune = communes[(have + i) % len(communes)]
            village = villages[commune.pk][rng.randrange(VILLAGES)]
            name = f"{rng.choice(family)} Thị {rng.choice(given)}"
            roll = rng.random()
            start = add_months(month, -rng.randrange(1, 60))
            status, end_month, reason, change_month = Status.ACTIVE, None, "", None
            if roll < 0.01:
                start = month
            elif roll < 0.015:
                status, end_month, reason, change_month = Status.STOPPED, add_months(month, -1), "ineligible", month
            elif roll < 0.095:
                status, reason = Status.STOPPED, "ineligible"
                change_month = add_months(month, -rng.randrange(1, 24))
                start = min(start, add_months(change_month, -1))
                end_month = add_months(change_month, -1)
            elif roll < 0.115:
                status = Status.SUSPENDED
            b = Beneficiary(
                full_name=name,
                name_key=search_key(name),
                birth_date=date(1930 + rng.randrange(70), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                gender="female",
                commune=commune,
                village=village,
                area_path=village.path,
                start_month=start,
                status=status,
                stop_reason=reason,
                end_month=end_month,
                has_issues=rng.random() < 0.03,
            )
            rows.append((b, change_month))
        with transaction.atomic():
            written = insert_rows(Beneficiary, [b for b, _ in rows])
            for b, change_month in rows:
                history.append(StatusChange(beneficiary=b, to_status=Status.ACTIVE, effective_month=b.start_month))
                if change_month:
                    history.append(
                        StatusChange(
                            beneficiary=b,
                            from_status=Status.ACTIVE,
                            to_status=Status.STOPPED,
                            reason="ineligible",
                            effective_month=change_month,
                        )
                    )
            insert_rows(StatusChange, history)
        have += len(written)
        rate = (have - first) / max(time.monotonic() - started, 1e-9)
        say(f"  {have:,} written ({rate:,.0f} rows/s)")
    if not ImportJob.objects.filter(area_path__startswith=province.path).exists():
        for commune in communes[:5]:
            ImportJob.objects.create(
                commune=commune,
                area_path=commune.path,
                file="imports/bench.xlsx",
                original_name="bench.xlsx",
                sha256="0" * 64,
                status=ImportStatus.VALIDATED,
            )


def _users(province, commune):
    from ansinh.accounts.models import RoleAssignment, User
    from ansinh.accounts.roles import Role

    users = {}
    for username, role, area in (
        ("bench_dash_province", Role.PROVINCE_MONITOR, province),
        ("bench_dash_commune", Role.COMMUNE_OFFICER, commune),
    ):
        user, _ = User.objects.get_or_create(username=username, defaults={"full_name": username})
        RoleAssignment.objects.get_or_create(user=user, role=role, area=area)
        users[role] = user
    return users


def _sample(user, samples: int) -> tuple[dict, dict[str, list[float]], object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ansinh.accounts import access
    from ansinh.registry import stats

    total: list[float] = []
    per_query: dict[str, list[float]] = {}
    dashboard = None
    for _ in range(samples):
        access.forget(user)
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            dashboard = stats.commune_figures(user)
            total.append((time.perf_counter() - t0) * 1000)
        for q in ctx.captured_queries:
            sql = q["sql"]
            kind = (
                "role grants"
                if "accounts_roleassignment" in sql
                else "beneficiaries (grouped)"
                if "registry_beneficiary" in sql and "GROUP BY" in sql
                else "imports (grouped)"
                if "registry_importjob" in sql
                else "moves (grouped)"
                if "registry_decision" in sql
                else "communes"
            )
            per_query.setdefault(kind, []).append(float(q["time"]) * 1000)
    return percentiles(total), per_query, dashboard


def _explain(user) -> None:
    from django.db import connection
    from django.db.models import Count, Q

    from ansinh.registry import queries
    from ansinh.registry.models import Status

    month = queries.this_month()
    qs = (
        queries.beneficiaries_for(user)
        .order_by()
        .values("commune_id")
        .annotate(
            receiving=Count("id", filter=Q(status=Status.ACTIVE)),
            started=Count("id", filter=queries.started_in(month)),
            stopped=Count("id", filter=queries.stopped_in(month)),
            issues=Count("id", filter=Q(has_issues=True)),
        )
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        for (line,) in cur.fetchall():
            say("    " + line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    url = database_url()
    prepare(url)
    setup_django(url)
    from django.db import connection

    from ansinh.accounts.roles import Role
    from ansinh.registry.models import Beneficiary

    header("Dashboard figures (registry.stats.commune_figures)")
    province, communes, villages = _tree()
    before = Beneficiary.objects.filter(area_path__startswith=province.path).count()
    _top_up(province, communes, villages, args.size)
    if Beneficiary.objects.filter(area_path__startswith=province.path).count() != before:
        say("VACUUM ANALYZE …")
        with connection.cursor() as cur:
            for table in ("registry_beneficiary", "registry_statuschange"):
                cur.execute(f"VACUUM ANALYZE {table}")
    users = _users(province, communes[0])
    for label, role in (
        ("province monitor, 100 communes", Role.PROVINCE_MONITOR),
        ("commune officer", Role.COMMUNE_OFFICER),
    ):
        stats_ms, per_query, dashboard = _sample(users[role], args.samples)
        t = dashboard.total
        say(
            f"{label}: {len(dashboard.rows)} rows; receiving {t.receiving:,}, started {t.started:,}, "
            f"stopped {t.stopped:,}, issues {t.issues:,}, imports {t.imports}, moving in {t.moving_in}"
        )
        say(
            f"  whole: p50 {stats_ms['p50']:.1f} ms, p95 {stats_ms['p95']:.1f} ms, "
            f"max {stats_ms['max']:.1f} ms ({stats_ms['n']} samples)"
        )
        for kind, times in per_query.items():
            p = percentiles(times)
            say(f"    {kind}: p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms")
        if args.explain:
            _explain(users[role])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
