"""The public status lookup (issue 12, parts 5 and 8): POST /tra-cuu/ at a fixed arrival rate
from a separate process, against a real server process on loopback, with N beneficiaries
(default 1,000,000) on PostgreSQL; then a burst from one client to show the rate limits hold.

World (its own database, `BENCH_DATABASE_URL`, default ansinh_bench_lookup; refused without
"bench" in the name): a province of its own (current tree, code BENCHLOOK, 20 communes of 5
villages) topped up to --size beneficiaries with INSERT … SELECT generate_series (chunks of
100,000), each with a 12-digit CCCD and a mobile phone derived from its id; an approved cycle of
the current month with one regular line each (a third by transfer, the rest in cash at a pay
point; no instructions or cash lists: the lookup runs every one of its reads, they find nothing).

Server: this script with --serve, a pre-fork WSGI server on 127.0.0.1 (the standard library's
wsgiref, N synchronous worker processes accepting on one socket, as gunicorn's sync workers do;
gunicorn is not a dependency), DEBUG=0, persistent database connections, ANSINH_TRUSTED_PROXIES=1
(each simulated client sends its own X-Forwarded-For address, as behind a reverse proxy).

Client: this script with --client, in another process: open loop, each request scheduled at
start + i / rate and timed from that moment (a late start counts in the latency: no coordinated
omission), a pool of threads, one connection per request. Phases:
  floor   GET /healthz at the same rate and duration (the trivial endpoint)
  lookup  POST /tra-cuu/ (CSRF cookie and token fetched once), a random CCCD of the province,
          its right phone digits for 90 % (the status shown), wrong digits for 10 % (no match),
          one client address per request
  burst   one client address, 60 look-ups of distinct CCCDs at once: the client limit (10 per
          10 minutes) must let exactly 10 through; then one CCCD (a number nobody registered,
          fresh each run: the limit counts a CCCD whether or not it exists) from 20 addresses:
          the CCCD limit (5 per hour) must let exactly 5 through. The workers are separate processes: the
          limit holds across processes because its counters are in the database.
Prints p50/p95/p99/max, errors, the achieved rate, the ratio to the floor, the CPU per request of
the server's workers and of the PostgreSQL backends (/proc), the peak memory of
the server's workers (VmHWM) and of the client, and PASS/FAIL for p95 < 100 ms and the limits.

  BENCH_DATABASE_URL=postgres://…/ansinh_bench_lookup python benchmarks/bench_lookup.py
      [--size 1000000] [--rate 200] [--seconds 20] [--workers 4] [--strict]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

CODE = "BENCHLOOK"
COMMUNES, VILLAGES = 20, 5
CHUNK = 100_000
DEFAULT_DB = "ansinh_bench_lookup"
TARGET_P95_MS = 100.0
RIGHT_SHARE = 0.9
RESERVED = 100  # the last ids: only the CCCD burst looks them up


def _url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or urlunsplit(urlsplit(c.DEFAULT_URL)._replace(path="/" + DEFAULT_DB))
    if "bench" not in urlsplit(url).path:
        raise SystemExit(f"refusing a database whose name lacks 'bench': {url}")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the benchmark needs PostgreSQL")
    return url


def _sql(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else cur.rowcount


def cccd_of(i: int) -> str:
    return "08" + f"{i:010d}"


def phone_of(i: int) -> str:
    return "+8491" + f"{i % 10_000_000:07d}"


# --- the world --------------------------------------------------------------------------------------


def _world():
    from django.conf import settings

    from ansinh.accounts.models import Function, OrgKind
    from ansinh.accounts.services import assign_responsibility, create_org_unit
    from ansinh.areas.models import Area, Level, Tree
    from ansinh.policy.models import Programme
    from ansinh.policy.services import load_policy

    if not Programme.objects.exists():
        load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)
    province, _ = Area.objects.get_or_create(
        tree=Tree.CURRENT, code=CODE, defaults={"level": Level.PROVINCE, "name": "Thử nghiệm tra cứu"}
    )
    communes = list(Area.objects.filter(parent=province, level=Level.COMMUNE).order_by("id"))
    for i in range(len(communes), COMMUNES):
        commune = Area.objects.create(
            tree=Tree.CURRENT, level=Level.COMMUNE, code=f"{CODE}{i:03d}", name=f"Xã Tra Cứu {i + 1}", parent=province
        )
        for v in range(VILLAGES):
            Area.objects.create(tree=Tree.CURRENT, level=Level.VILLAGE, name=f"Ấp {v + 1}", parent=commune)
    unit = create_org_unit(actor=None, kind=OrgKind.PROVINCE_DEPARTMENT, name="Sở thử nghiệm tra cứu", area=province)
    if not unit.responsibilities.exists():
        assign_responsibility(actor=None, org_unit=unit, area=province, function=Function.APPROVE)
    return province, unit


def _top_up(province, size: int) -> int:
    """Beneficiaries with ids 1..size in the province (ids, CCCDs and phones derive from g)."""
    from ansinh.areas.models import Area, Level

    have = _sql("SELECT count(*) FROM registry_beneficiary WHERE area_path LIKE %s", [province.path + "%"])[0][0]
    if have >= size:
        c.say(f"province {CODE}: {have:,} beneficiaries (reused)")
        _representatives(size)
        return have
    villages = list(
        Area.objects.filter(path__startswith=province.path, level=Level.VILLAGE)
        .order_by("id")
        .values_list("id", "parent_id", "path")
    )
    taken = _sql("SELECT COALESCE(max(id), 0) FROM registry_beneficiary")[0][0]
    if have == 0 and taken:
        raise SystemExit("registry_beneficiary holds other rows: use a database of its own")
    v_ids = "ARRAY[" + ",".join(str(v) for v, _c, _p in villages) + "]"
    c_ids = "ARRAY[" + ",".join(str(cm) for _v, cm, _p in villages) + "]"
    paths = "ARRAY[" + ",".join(f"'{p}'" for _v, _c, p in villages) + "]"
    n_v = len(villages)
    family = "ARRAY['Nguyễn','Trần','Lê','Phạm','Huỳnh','Võ','Đặng','Bùi']"
    given = "ARRAY['An','Bình','Cúc','Dũng','Hoa','Lan','Minh','Nga','Sơn','Yến']"
    c.say(f"province {CODE}: {have:,} beneficiaries; writing up to {size:,} …")
    started = time.monotonic()
    first = have + 1
    while first <= size:
        last = min(size, first + CHUNK - 1)
        _sql(
            "INSERT INTO registry_beneficiary (id, full_name, name_key, sort_key, birth_date, gender, cccd, phone, "
            "ethnicity, address, area_path, cannot_travel, no_phone, cannot_read_vietnamese, frail, start_month, "
            "status, stop_reason, quality_issues, has_issues, created_at, updated_at, commune_id, village_id, "
            "legacy_id_number) "
            f"SELECT g, nm, lower(nm), lower(nm), DATE '1930-01-01' + (g % 20000), "
            "CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, "
            "'08' || lpad(g::text, 10, '0'), '+8491' || lpad((g % 10000000)::text, 7, '0'), 'Kinh', '', "
            f"({paths})[1 + g % {n_v}], false, false, false, false, DATE '2025-01-01', 'active', '', '[]', false, "
            f"now(), now(), ({c_ids})[1 + g % {n_v}], ({v_ids})[1 + g % {n_v}], '' "
            f"FROM (SELECT g, ({family})[1 + g % 8] || ' Văn ' || ({given})[1 + g / 8 % 10] AS nm "
            f"FROM generate_series({first}, {last}) g) s"
        )
        c.say(f"  {last:,} written ({(last - have) / max(time.monotonic() - started, 1e-9):,.0f} rows/s)")
        first = last + 1
    _sql(
        "SELECT setval(pg_get_serial_sequence('registry_beneficiary', 'id'), "
        "(SELECT max(id) FROM registry_beneficiary))"
    )
    _representatives(size)
    return size


def _representatives(size: int) -> None:
    """A representative for one person in five (their phone digits also open the lookup), so that
    the look-up's representative branch reads a realistic table."""
    have = _sql("SELECT count(*) FROM registry_representation")[0][0]
    if have >= size // 5:
        return
    for first in range(1, size + 1, CHUNK):
        last = min(size, first + CHUNK - 1)
        _sql(
            "INSERT INTO registry_representative (id, full_name, name_key, birth_date, gender, cccd, phone, "
            "area_path, created_at, updated_at, commune_id) "
            "SELECT b.id, 'Người Đại Diện ' || b.id, 'nguoi dai dien ' || b.id, NULL, 'female', '', "
            "'+8498' || lpad((b.id %% 10000000)::text, 7, '0'), b.area_path, now(), now(), b.commune_id "
            "FROM registry_beneficiary b WHERE b.id BETWEEN %s AND %s AND b.id %% 5 = 0 "
            "AND NOT EXISTS (SELECT 1 FROM registry_representative r WHERE r.id = b.id)",
            [first, last],
        )
        _sql(
            "INSERT INTO registry_representation (id, kind, relationship, document_number, valid_from, valid_to, "
            "is_payee, ended_at, beneficiary_id, representative_id) "
            "SELECT r.id, 'authorised', 'con', '', NULL, NULL, false, NULL, r.id, r.id "
            "FROM registry_representative r WHERE r.id BETWEEN %s AND %s "
            "AND NOT EXISTS (SELECT 1 FROM registry_representation x WHERE x.id = r.id)",
            [first, last],
        )
    for table in ("registry_representative", "registry_representation"):
        _sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
    c.say(f"  representatives: {_sql('SELECT count(*) FROM registry_representation')[0][0]:,}")


def _cycle(province, unit, size: int):
    """The current month's cycle, approved (state set directly), one regular line per person."""
    from django.utils import timezone

    from ansinh.payroll.models import CycleState, PaymentCycle
    from ansinh.policy.models import Category

    month = timezone.localdate().replace(day=1)
    programme_id = Category.objects.get(code="D20.5.5.c").programme_id
    cycle, _ = PaymentCycle.objects.get_or_create(
        approving_unit=unit,
        programme_id=programme_id,
        month=month,
        defaults={"area": province, "area_path": province.path, "state": CycleState.PAYROLL_GENERATED},
    )
    have = _sql("SELECT count(*) FROM payroll_payrollline WHERE cycle_id = %s", [cycle.pk])[0][0]
    if have < size:
        c.say(f"cycle {month:%m/%Y}: {have:,} lines; writing up to {size:,} …")
        # fresh statistics before each chunk: without them the planner reads the lines already
        # written once per person (a nested-loop anti-join: hours for a million)
        _sql("ANALYZE registry_beneficiary")
        for first in range(1, size + 1, CHUNK):
            _sql("ANALYZE payroll_payrollline")
            last = min(size, first + CHUNK - 1)
            _sql(
                "INSERT INTO payroll_payrollline (cycle_id, beneficiary_id, line_type, amount, representation_id, "
                "payee_name, channel, account_id, account_institution, account_last4, account_holder, area_path, "
                "commune_id, basis, months, receivable_id, funeral_id, created_at) "
                "SELECT %s, b.id, 'regular', 500000 + (b.id %% 3) * 250000, NULL, b.full_name, "
                "CASE WHEN b.id %% 3 = 0 THEN 'account' ELSE 'pay_point' END, NULL, '', '', '', b.area_path, "
                "b.commune_id, '{}', '{}', NULL, NULL, now() FROM registry_beneficiary b "
                "WHERE b.id BETWEEN %s AND %s AND NOT EXISTS (SELECT 1 FROM payroll_payrollline l "
                "WHERE l.cycle_id = %s AND l.beneficiary_id = b.id AND l.line_type = 'regular')",
                [cycle.pk, first, last, cycle.pk],
            )
    PaymentCycle.objects.filter(pk=cycle.pk).update(state=CycleState.PAYING)
    return cycle


def _analyze() -> None:
    for table in (
        "registry_beneficiary",
        "payroll_payrollline",
        "payroll_paymentcycle",
        "registry_representation",
        "registry_representative",
    ):
        _sql(f"VACUUM ANALYZE {table}")


def _explain() -> list[str]:
    """The plan of the person look-up (ansinh.lookup.services._match) for one CCCD."""
    from django.db.models import Exists, OuterRef, Q

    from ansinh.registry.models import Beneficiary, Representation

    reps = Representation.objects.filter(
        beneficiary=OuterRef("pk"), ended_at__isnull=True, representative__phone__endswith="1234"
    )
    qs = Beneficiary.objects.filter(cccd=cccd_of(7)).filter(Q(phone__endswith="1234") | Exists(reps))
    return [line for line in qs.explain().splitlines() if "Scan" in line]


# --- the server (--serve) -------------------------------------------------------------------------------


def serve(port: int, workers: int) -> None:
    import django

    django.setup()
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    class Server(WSGIServer):
        request_queue_size = 2048

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    app = get_wsgi_application()
    server = Server(("127.0.0.1", port), Quiet)
    server.set_app(app)
    connections.close_all()
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, lambda *_a: os._exit(0))
            try:
                server.serve_forever(poll_interval=0.05)
            finally:
                os._exit(0)
        children.append(pid)
    print("READY " + " ".join(map(str, children)), flush=True)

    def stop(*_a):
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        time.sleep(3600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(workers: list[int]) -> tuple[float, float]:
    """CPU seconds so far of the server's workers and of the PostgreSQL backends serving this
    database (they run on the same machine): per request, a figure that other load on the
    machine hardly changes, unlike the latencies."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        backends = [row[0] for row in cur.fetchall()]
    return sum(_cpu_seconds(p) for p in workers), sum(_cpu_seconds(p) for p in backends)


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --- the client (--client) ------------------------------------------------------------------------------


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, response.getheader("Set-Cookie") or ""
    finally:
        conn.close()


def _csrf(port: int) -> tuple[str, str]:
    status, page, cookie = _request(port, "GET", "/tra-cuu/")
    if status != 200:
        raise SystemExit(f"GET /tra-cuu/ answered {status}")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    secret = re.search(r"csrftoken=([^;]+)", cookie).group(1)
    return token, secret


def _lookup_args(port: int, csrf: tuple[str, str], cccd: str, last4: str, client: str):
    token, secret = csrf
    body = urlencode({"csrfmiddlewaretoken": token, "action": "phone", "p-cccd": cccd, "p-last4": last4}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={secret}",
        "X-Forwarded-For": client,
    }
    return port, "POST", "/tra-cuu/", body, headers


def _open_loop(make, rate: float, seconds: float, threads: int = 128) -> dict:
    """Send make(i) → request args at start + i / rate; each latency from its scheduled time."""
    n = int(rate * seconds)
    results: list[tuple[float, int, bool]] = [None] * n  # type: ignore[list-item]
    lock = threading.Lock()
    late = [0]

    def one(i: int, scheduled: float) -> None:
        args = make(i)
        try:
            status, data, _cookie = _request(*args)
            shown = b"public-answer" in data
        except Exception:  # noqa: BLE001
            status, shown = 0, False
        results[i] = ((time.perf_counter() - scheduled) * 1000, status, shown)

    start = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for i in range(n):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.01:
                with lock:
                    late[0] += 1
            pool.submit(one, i, scheduled)
        sending = time.perf_counter() - start
    wall = time.perf_counter() - start
    lat = [r[0] for r in results]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[1])] = statuses.get(str(r[1]), 0) + 1
    return {
        "sent": n,
        "wall_s": wall,  # until the last answer
        "achieved_rate": n / max(sending, 1e-9),  # the rate the requests were sent at
        "answered_rate": n / wall,
        "latency": c.percentiles(lat),
        "statuses": statuses,
        "shown": sum(1 for r in results if r[2]),
        "errors": sum(1 for r in results if r[1] not in (200, 429)),
        "late_sends": late[0],
    }


def _burst(port: int, csrf, size: int) -> dict:
    """One client, 60 registered CCCDs at once (right digits); then one CCCD from 20 clients: a
    number nobody registered (the limit counts a CCCD whether or not it exists), fresh each run."""
    rng = random.SystemRandom()
    client = f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    picks = rng.sample(range(1, size - RESERVED + 1), 60)
    with ThreadPoolExecutor(max_workers=20) as pool:
        one_client = list(
            pool.map(lambda i: _request(*_lookup_args(port, csrf, cccd_of(i), phone_of(i)[-4:], client))[0], picks)
        )
    target = "09" + "".join(str(rng.randrange(10)) for _ in range(10))
    clients = [f"198.{rng.randrange(18, 20)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        one_cccd = list(pool.map(lambda a: _request(*_lookup_args(port, csrf, target, "0000", a))[0], clients))
    return {
        "client": {"allowed": one_client.count(200), "limited": one_client.count(429), "sent": len(one_client)},
        "cccd": {"allowed": one_cccd.count(200), "limited": one_cccd.count(429), "sent": len(one_cccd)},
    }


def client_main(port: int, phase: str, rate: float, seconds: float, size: int, seed: int) -> None:
    rng = random.Random(seed)
    out: dict = {}
    if phase == "floor":
        out = _open_loop(lambda i: (port, "GET", "/healthz", None, {}), rate, seconds)
    elif phase == "lookup":
        csrf = _csrf(port)
        people = [rng.randrange(1, size - RESERVED + 1) for _ in range(int(rate * seconds))]
        right = [rng.random() < RIGHT_SHARE for _ in people]

        def make(i: int):
            p = people[i]
            last4 = phone_of(p)[-4:] if right[i] else f"{(int(phone_of(p)[-4:]) + 1) % 10000:04d}"
            client = f"10.{(seed + i) // 65536 % 256}.{(seed + i) // 256 % 256}.{(seed + i) % 256}"
            return _lookup_args(port, csrf, cccd_of(p), last4, client)

        out = _open_loop(make, rate, seconds)
        out["expected_shown"] = sum(right)
    elif phase == "burst":
        out = _burst(port, _csrf(port), size)
    out["client_peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out), flush=True)


# --- the run ---------------------------------------------------------------------------------------------


def _phase(port: int, phase: str, args, seed: int) -> dict:
    cmd = [sys.executable, __file__, "--client", phase, "--port", str(port), "--rate", str(args.rate)]
    cmd += ["--seconds", str(args.seconds), "--size", str(args.size), "--seed", str(seed)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the {phase} client failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(name: str, r: dict, floor: dict | None = None) -> None:
    lat = r["latency"]
    ratio = (
        f"  p50 {lat['p50'] / floor['latency']['p50']:5.1f}× / p95 {lat['p95'] / floor['latency']['p95']:5.1f}× floor"
        if floor
        else ""
    )
    c.say(
        f"{name:<8} sent {r['sent']:>6,} at {r['achieved_rate']:6.1f}/s (answered {r['answered_rate']:6.1f}/s)  "
        f"p50 {lat['p50']:7.1f}  p95 {lat['p95']:7.1f}  p99 {lat['p99']:7.1f}  max {lat['max']:7.1f} ms  "
        f"errors {r['errors']}  statuses {r['statuses']}{ratio}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port, args.workers)
        return 0
    if args.client:
        client_main(args.port, args.client, args.rate, args.seconds, args.size, args.seed)
        return 0

    url = _url()
    c.prepare(url)
    c.setup_django(url)
    c.header(f"Public status lookup, {args.size:,} beneficiaries, {args.rate:.0f} requests/s for {args.seconds:.0f} s")
    c.say(f"   {c.postgres_version()}")
    started = time.monotonic()
    province, unit = _world()
    _top_up(province, args.size)
    cycle = _cycle(province, unit, args.size)
    _analyze()
    lines = _sql("SELECT count(*) FROM payroll_payrollline WHERE cycle_id = %s", [cycle.pk])[0][0]
    c.say(f"setup {time.monotonic() - started:.0f} s; cycle {cycle.month:%m/%Y}: {lines:,} lines")
    for row in _sql(
        "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN "
        "('registry_beneficiary', 'payroll_payrollline', 'lookup_lookuplog', 'lookup_ratecounter')"
    ):
        c.say(f"   {row[0]:<24}{c.mb(row[1]):>12}")
    c.say("person look-up plan: " + " | ".join(p.strip() for p in _explain()))

    from django.db import connections

    connections.close_all()
    port = _free_port()
    static = Path(tempfile.gettempdir()) / "ansinh_bench_lookup_static"
    env = c.env_for(url) | {
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ANSINH_TRUSTED_PROXIES": "1",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(static),  # DEBUG=0 serves the collected (hashed) files: collected here
    }
    if not (static / "staticfiles.json").exists():
        subprocess.run(
            [sys.executable, str(c.ROOT / "manage.py"), "collectstatic", "--noinput"],
            env=env,
            cwd=c.ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    server_log = static.parent / "ansinh_bench_lookup_server.log"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        cwd=c.ROOT,
        stdout=subprocess.PIPE,
        stderr=server_log.open("w"),
        text=True,
    )
    try:
        ready = server.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise SystemExit(f"the server did not start (see {server_log})")
        workers = [int(p) for p in ready[1:]]
        c.say(f"server: {args.workers} worker processes on 127.0.0.1:{port} (pids {', '.join(map(str, workers))})")
        warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
        _phase(port, "lookup", warm, seed=random.randrange(1, 10**6))  # connections, caches, templates in every worker
        cpu0 = _cpu(workers)
        floor = _phase(port, "floor", args, seed=11)
        cpu1 = _cpu(workers)
        lookup = _phase(port, "lookup", args, seed=random.randrange(1, 10**6))
        cpu2 = _cpu(workers)
        for result, (a, b) in ((floor, (cpu0, cpu1)), (lookup, (cpu1, cpu2))):
            result["cpu_ms"] = [1000 * (b[i] - a[i]) / result["sent"] for i in (0, 1)]
        burst = _phase(port, "burst", args, seed=13)
        hwm = [_vm_hwm(pid) for pid in workers]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    c.say("")
    _line("floor", floor)
    _line("lookup", lookup, floor)
    c.say(
        f"         status shown {lookup['shown']:,} of {lookup['expected_shown']:,} with the right digits; "
        f"late sends {lookup['late_sends']}"
    )
    for name, r in (("floor", floor), ("lookup", lookup)):
        c.say(
            f"CPU per request, {name:<6}: server workers {r['cpu_ms'][0]:5.2f} ms, PostgreSQL {r['cpu_ms'][1]:5.2f} ms"
        )
    c.say(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    b1, b2 = burst["client"], burst["cccd"]
    c.say(
        f"burst, one client, {b1['sent']} distinct CCCDs: allowed {b1['allowed']}, "
        f"limited (429) {b1['limited']}  (limit 10)"
    )
    c.say(
        f"burst, one CCCD, {b2['sent']} clients:        allowed {b2['allowed']}, "
        f"limited (429) {b2['limited']}  (limit 5)"
    )
    c.say(
        f"peak memory: server workers {', '.join(c.mb(h) for h in hwm)} (VmHWM); "
        f"client {c.mb(lookup['client_peak_rss'])}; "
        f"this process {c.mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}"
    )
    results = {
        "p95 < 100 ms": lookup["latency"]["p95"] < TARGET_P95_MS,
        "no errors": lookup["errors"] == 0,
        "client limit": b1["allowed"] == 10 and b1["limited"] == b1["sent"] - 10,
        "CCCD limit": b2["allowed"] == 5 and b2["limited"] == b2["sent"] - 5,
    }
    for name, ok in results.items():
        c.say(f"{name:<16}{'PASS' if ok else 'FAIL'}")
    return 0 if all(results.values()) or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
