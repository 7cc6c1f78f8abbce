"""Run every benchmark in order on the PostgreSQL benchmark database and print a summary.

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/ansinh_bench python benchmarks/run_all.py
  (or: make bench)

Options are passed on: --samples N (searches per kind), --rows N (rows of the import file),
--size N (beneficiaries in the search registry), --events N (events in the audit log),
--runs N (page loads on slow 3G; that benchmark uses its own SQLite demo and is skipped
without Debian's chromium), --transfers N and --statuses N (the disbursement benchmark, in a
database of its own: BENCH_DATABASE_URL, default ansinh_bench_disb). Exit status 1 when a
target is missed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
import bench_audit  # noqa: E402
import bench_disbursement  # noqa: E402
import bench_import  # noqa: E402
import bench_search  # noqa: E402
import bench_slow3g  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000, help="synthetic events in the audit log")
    parser.add_argument("--runs", type=int, default=3, help="page loads of each page on slow 3G")
    parser.add_argument("--transfers", type=int, default=100_000, help="transfers of the disbursement end to end")
    parser.add_argument("--statuses", type=int, default=1_000_000, help="statuses of the pain.002 import")
    args = parser.parse_args()
    started = time.monotonic()
    search = bench_search.main(["--size", str(args.size), "--samples", str(args.samples)])
    c.say("")
    imp = bench_import.main(["--rows", str(args.rows)])
    c.say("")
    audit = bench_audit.main(["--size", str(args.events)])
    c.say("")
    slow3g = bench_slow3g.main(["--runs", str(args.runs)])
    c.say("")
    disb = bench_disbursement.main(["--size", str(args.transfers), "--import-size", str(args.statuses)])

    c.say("")
    c.header("summary")
    s = search["sizes"]
    c.say(
        f"registry: {s['beneficiaries']:,} beneficiaries, "
        f"table {c.mb(s['table_bytes'])} + indexes {c.mb(s['index_bytes'])}"
    )
    if search.get("loaded_s"):
        c.say(f"load of the registry (load_demo --size {args.size:,}): {search['loaded_s']:.0f} s")
    c.say(
        f"{'search (page of 50 + count)':<30}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}  "
        f"target p95 < {bench_search.TARGET_MS} ms"
    )
    for kind, r in search["results"].items():
        t = r["total"]
        verdict = (
            ("OK" if t["p95"] < bench_search.TARGET_MS else "MISSED") if kind in bench_search.TARGETED else "(info)"
        )
        c.say(f"  {kind:<28}{t['p50']:>7.1f}ms{t['p95']:>7.1f}ms{t['p99']:>7.1f}ms{t['max']:>7.1f}ms  {verdict}")
    peak = max(imp["peak_rss_mb"].values())
    c.say(
        f"import of {imp['rows']:,} rows ({imp['file_mb']:.1f} MB XLSX): check_file {imp['check_s']:.1f} s + "
        f"apply_plan {imp['apply_s']:.1f} s = {imp['total_s']:.1f} s (target < {bench_import.TARGET_SECONDS} s); "
        f"peak RSS {peak:.0f} MB (target < {bench_import.TARGET_MB} MB); via the worker {imp['worker_s']:.1f} s; "
        f"re-import {imp['reimport_s']:.1f} s {imp['reimport']}"
    )
    a = audit["results"]
    c.say(
        f"audit list on {audit['sizes']['events']:,} events (p95, end to end / the page's query; target query < "
        f"{bench_audit.TARGET_QUERY_MS} ms): "
        + "; ".join(
            f"{k} {r['total']['p95']:.0f} / {r['query']['p95']:.0f} ms"
            for k, r in a.items()
            if "query" in r and "floor" not in k
        )
    )
    if slow3g["ok"] is None:
        c.say(f"slow 3G page loads: skipped ({slow3g['skipped']})")
    else:
        c.say(
            f"slow 3G page loads, first visit (target < {bench_slow3g.TARGET_S:.0f} s; floor "
            f"{slow3g['floor_s']:.2f} s): "
            + "; ".join(
                f"{key.split(' / ')[0]} {r['load_s']:.2f} s, {r['bytes'] / 1024:.0f} kB"
                for key, r in slow3g["results"].items()
                if key.endswith("/ first") and not key.startswith("floor")
            )
        )
    e, p1, p2 = disb["e2e"], disb["pain001"], disb["pain002"]
    c.say(
        f"disbursement: {disb['size']:,} transfers end to end {e['total_s']:.1f} s, {e['rate']:,.0f}/s "
        f"(target < {bench_disbursement.TARGET_S:.0f} s), + notices {e['notices_s']:.1f} s; pain.001 write + "
        f"validate {p1['ratio']:.2f}× floor, peak {p1['peak_mb']:.0f} MB; pain.002 import of "
        f"{disb['import_size']:,} {p2['total_s']:.1f} s = {p2['ratio']:.2f}× floor "
        f"(+ notices {p2['notices_s']:.1f} s); "
        + ", ".join(k for k, v in disb["results"].items() if not v)
        + (" missed" if not disb["ok"] else "all met")
    )
    ok = search["ok"] and imp["ok"] and audit["ok"] and slow3g["ok"] is not False and disb["ok"]
    c.say(f"all targets {'met' if ok else 'NOT met'}; {time.monotonic() - started:.0f} s in all")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
