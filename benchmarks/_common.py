"""Shared plumbing of the benchmark scripts: the PostgreSQL database of the benchmarks
(created if missing, migrated), Django set-up, timing statistics and printing.

The scripts are run as files (`python benchmarks/bench_search.py`), so the repository root is
put on sys.path here."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ansinh_bench"
PROVINCE = "89"  # An Giang (pre-2025 tree): the pilot province
PROVINCE_TREE = "legacy"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"the benchmarks need PostgreSQL; DATABASE_URL is {url!r}")
    return url


def ensure_database(url: str) -> bool:
    """Create the database of `url` if it does not exist (connecting to the `postgres`
    maintenance database of the same server). Returns True when it was created."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def env_for(url: str) -> dict[str, str]:
    """The environment a child process (manage.py, an import run) gets: the benchmark database,
    no DEBUG (it would keep every SQL statement in memory), no immediate tasks."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "DEBUG": "0", "TASKS_IMMEDIATE": "0", "DJANGO_SETTINGS_MODULE": "ansinh.settings"})
    return env


def manage(url: str, *args: str, quiet: bool = False) -> float:
    """Run `manage.py ARGS` on the benchmark database; returns the wall time in seconds."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env_for(url),
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )
    return time.monotonic() - started


def prepare(url: str) -> None:
    """Create the database if missing and migrate it."""
    created = ensure_database(url)
    say(f"database {urlsplit(url).path.lstrip('/')}: {'created' if created else 'exists'}; migrating …")
    manage(url, "migrate", "--noinput", quiet=True)


def setup_django(url: str) -> None:
    os.environ.update(env_for(url))
    import django

    django.setup()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {
        "n": len(ordered),
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    cpu = cpu or platform.processor() or "unknown CPU"
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return "PostgreSQL " + cur.fetchone()[0]


def header(title: str) -> None:
    """Title, date, machine and its load (the machine is shared: a busy CPU slows every figure)."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    say(f"== {title} — {time.strftime('%Y-%m-%d %H:%M %Z')}")
    say(f"   {machine()}; load average {load}")


def say(message: str) -> None:
    print(message, flush=True)


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1024 / 1024:,.1f} MB"
