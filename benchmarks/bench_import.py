"""Import benchmark: a 50,000-row XLSX in the template format for one commune, checked and
written through the real importer (`importing.check_file`, `importing.apply_plan`), then
imported again (every row must come back unchanged).

Each run goes in its own child process, so the peak memory printed (ru_maxrss) is that
import's alone:

  import    check_file (read the file, validate every row, set-based database checks,
            classify create / update / unchanged) then apply_plan (write the valid rows in one
            transaction: set-based inserts, one audit event per row)
  reimport  the same file again: every row must come back unchanged, nothing written

Through the UI a large file takes two background tasks, "check" and, after the officer
confirms, "write", which checks the stored file again before apply_plan (the registry may have
changed in between): that wall time, check + check + apply, is printed too.

The people are synthetic (the demo generator, `ansinh.demo.registry.Synth`): valid names,
CCCDs consistent with birth date and gender, mobile phones, villages of the commune,
representatives. CCCDs already taken in the database are drawn again, so no row errs.

By default the import goes into the benchmark database (with its million beneficiaries, so the
CCCD and likely-duplicate checks run against a realistic registry) and the rows it created are
deleted afterwards (the audit events stay: the log is append-only); --keep leaves them.

  python benchmarks/bench_import.py [--rows 50000] [--keep] [--keep-file]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

TARGET_SECONDS = 60
TARGET_MB = 500
SEED = "bench-import-v1"


# ----------------------------------------------------------------------------- the file


def _row(d, villages: dict[int, str]) -> list:
    """One template row (column order of registry.columns.COLUMNS) for a generated input."""
    from ansinh.registry.columns import COLUMNS

    def day(value):
        return value.strftime("%d/%m/%Y") if value else ""

    main, *others = d.categories
    rep = d.representatives[0] if d.representatives else None
    values = {
        "full_name": d.full_name,
        "birth_date": day(d.birth_date),
        "gender": "Nam" if d.gender == "male" else "Nữ",
        "cccd": d.cccd,
        "phone": d.phone,
        "ethnicity": d.ethnicity,
        "village": villages.get(d.village_id, ""),
        "address": d.address,
        "category": main.code,
        "condition": main.condition,
        "units": main.units if main.units != 1 else "",
        # the template has no condition column for further categories
        "other_categories": "; ".join(o.code for o in others if not o.condition),
        "decision_number": d.decision_number,
        "decision_date": day(d.decision_date),
        "start_month": d.start_month.strftime("%m/%Y") if d.start_month else "",
        "cannot_travel": "x" if d.cannot_travel else "",
        "no_phone": "x" if d.no_phone else "",
        "cannot_read_vietnamese": "x" if d.cannot_read_vietnamese else "",
        "frail": "x" if d.frail else "",
    }
    if rep:
        values |= {
            "rep_full_name": rep.person.full_name,
            "rep_kind": "Giám hộ" if rep.kind == "guardian" else "Ủy quyền",
            "rep_relationship": rep.relationship,
            "rep_birth_date": day(rep.person.birth_date),
            "rep_gender": {"male": "Nam", "female": "Nữ"}.get(rep.person.gender, ""),
            "rep_cccd": rep.person.cccd,
            "rep_phone": rep.person.phone,
            "rep_document": rep.document_number,
            "rep_valid_from": day(rep.valid_from),
            "rep_valid_to": day(rep.valid_to),
            "rep_is_payee": "x" if rep.is_payee else "",
        }
    return [values.get(col.key, "") for col in COLUMNS]


def _free_cccds(people, rng: random.Random) -> int:
    """Give every person a CCCD that nobody else holds (in the file or the database); the same
    representative on two rows keeps one number. Returns the number of redraws."""
    from ansinh.demo.registry import redraw_cccd
    from ansinh.registry.models import Beneficiary, Representative

    redraws = 0
    for _attempt in range(20):
        numbers = sorted({p.cccd for p in people if p.cccd})
        taken: set[str] = set()
        for start in range(0, len(numbers), 5000):
            batch = numbers[start : start + 5000]
            taken |= set(Beneficiary.objects.filter(cccd__in=batch).values_list("cccd", flat=True))
            taken |= set(Representative.objects.filter(cccd__in=batch).values_list("cccd", flat=True))
        owner: dict[str, int] = {}
        clashes = 0
        for p in people:
            if not p.cccd:
                continue
            holder = owner.get(p.cccd)
            if (holder is not None and holder != id(p)) or (holder is None and p.cccd in taken):
                p.cccd = redraw_cccd(rng, p.cccd)
                clashes += 1
            owner.setdefault(p.cccd, id(p))
        redraws += clashes
        if not clashes:
            return redraws
    raise RuntimeError("could not draw free CCCD numbers")


def build_file(path: Path, *, commune, rows: int) -> dict:
    """Write the XLSX (openpyxl write_only, constant memory) and return facts about it."""
    from openpyxl import Workbook

    from ansinh.areas.models import Area, Level
    from ansinh.demo.registry import Place, Synth, profile_for
    from ansinh.policy.models import Category
    from ansinh.registry.columns import COLUMNS

    villages = list(Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("code", "pk"))
    place = Place(commune=commune, villages=villages, weight=1.0, urban=commune.division_type in ("Phường", "Thị trấn"))
    synth = Synth(
        rng=random.Random(SEED),
        places=[place],
        profile=profile_for(commune.province),
        category_codes=set(Category.objects.values_list("code", flat=True)),
        faulty_kinds=(),  # every row valid: the benchmark measures a clean 50,000-row import
    )
    inputs = [b for group in synth.groups(rows) for b in group]
    people = [p for b in inputs for p in (b, *(r.person for r in b.representatives))]
    redraws = _free_cccds(people, random.Random(SEED + ":cccd"))
    names = {v.pk: v.name for v in villages}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    ws.append([col.header for col in COLUMNS])
    for b in inputs:
        ws.append(_row(b, names))
    wb.save(path)
    return {
        "rows": len(inputs),
        "with_representative": sum(1 for b in inputs if b.representatives),
        "villages": len(villages),
        "cccd_redraws": redraws,
        "bytes": path.stat().st_size,
    }


# ------------------------------------------------------------------- a phase, in a child


def child(phase: str, file: str, commune_id: int, actor_id: int) -> None:
    c.setup_django(c.database_url())
    from django.db import transaction

    from ansinh.accounts.models import User
    from ansinh.areas.models import Area
    from ansinh.registry import importing

    baseline = _rss()
    commune = Area.objects.get(pk=commune_id)
    actor = User.objects.get(pk=actor_id)
    out: dict = {"phase": phase, "baseline_rss": baseline}
    marks: list[float] = []
    started = time.monotonic()
    plan = importing.check_file(
        file, commune=commune, name=Path(file).name, progress=lambda *_a: marks.append(time.monotonic())
    )
    out["check_s"] = time.monotonic() - started
    out["rows_validated_s"] = (marks[-1] - started) if marks else None  # per-row part (last progress tick)
    summary = plan.summary()
    out["plan"] = {k: summary[k] for k in ("rows", "created", "updated", "unchanged", "error_rows")}
    out["warnings"] = len(plan.warnings)
    out["first_errors"] = summary["errors"][:5]
    if phase in ("import", "reimport"):
        started = time.monotonic()
        with transaction.atomic():
            out["result"] = importing.apply_plan(actor=actor, plan=plan, commune=commune, note="benchmark import")
        out["apply_s"] = time.monotonic() - started
    out["peak_rss"] = _rss()
    print("RESULT " + json.dumps(out, default=str), flush=True)


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def run_phase(url: str, phase: str, file: Path, commune_id: int, actor_id: int) -> dict:
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            phase,
            "--file",
            str(file),
            "--commune",
            str(commune_id),
            "--actor",
            str(actor_id),
        ],
        env=c.env_for(url),
        cwd=c.ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"phase {phase} failed")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["process_s"] = wall
    return result


# ------------------------------------------------------------------------------ driver


def _setup(url: str):
    """The province (policy, area tree, villages), a commune and an officer to import as."""
    from ansinh.accounts.models import RoleAssignment, User
    from ansinh.accounts.roles import Role
    from ansinh.areas.models import Area, Level, Tree

    province = Area.objects.filter(tree=Tree.LEGACY, level=Level.PROVINCE, code=c.PROVINCE).first()
    if province is None or not Area.objects.filter(path__startswith=province.path, level=Level.VILLAGE).exists():
        c.say("loading policy, the area tree and villages (load_demo --size 0) …")
        c.manage(url, "load_demo", "--size", "0", "--province", c.PROVINCE, "--tree", c.PROVINCE_TREE)
        province = Area.objects.get(tree=Tree.LEGACY, level=Level.PROVINCE, code=c.PROVINCE)
    commune = (
        Area.objects.filter(path__startswith=province.path, level=Level.COMMUNE, children__level=Level.VILLAGE)
        .order_by("code", "pk")
        .distinct()
        .first()
    )
    user, _ = User.objects.get_or_create(username="bench_commune_officer", defaults={"full_name": "Benchmark officer"})
    RoleAssignment.objects.get_or_create(user=user, role=Role.COMMUNE_OFFICER, area=commune, revoked_at=None)
    return province, commune, user


def _cleanup(commune_id: int, after_beneficiary: int, after_representative: int) -> int:
    """Delete the beneficiaries (and their rows) this run created; the audit log stays."""
    from django.db import connection, transaction

    mine = "SELECT id FROM registry_beneficiary WHERE commune_id = %s AND id > %s"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM registry_representation WHERE beneficiary_id IN ({mine})", [commune_id, after_beneficiary]
        )
        cur.execute(
            "DELETE FROM registry_representative r WHERE r.id > %s AND NOT EXISTS "
            "(SELECT 1 FROM registry_representation l WHERE l.representative_id = r.id)",
            [after_representative],
        )
        cur.execute(
            f"DELETE FROM registry_statuschange WHERE beneficiary_id IN ({mine})", [commune_id, after_beneficiary]
        )
        cur.execute(f"DELETE FROM registry_decision WHERE beneficiary_id IN ({mine})", [commune_id, after_beneficiary])
        cur.execute(
            f"DELETE FROM registry_beneficiarycategory WHERE beneficiary_id IN ({mine})",
            [commune_id, after_beneficiary],
        )
        cur.execute(
            "DELETE FROM registry_beneficiary WHERE commune_id = %s AND id > %s", [commune_id, after_beneficiary]
        )
        return cur.rowcount


def _vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for table in ("registry_beneficiary", "registry_beneficiarycategory", "registry_decision"):
            cur.execute(f"VACUUM ANALYZE {table}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the imported beneficiaries")
    parser.add_argument("--keep-file", action="store_true", help="keep the generated XLSX (path printed)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--commune", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--actor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.file, args.commune, args.actor)
        return {}

    url = c.database_url()
    c.header(Path(__file__).stem)
    c.prepare(url)
    c.setup_django(url)
    from django.db.models import Max

    from ansinh.registry.models import Beneficiary, Representative

    province, commune, user = _setup(url)
    registry_size = Beneficiary.objects.count()
    c.say(f"import of {args.rows:,} rows into {commune.full_name} (id {commune.pk}); registry holds {registry_size:,}")
    max_b = Beneficiary.objects.aggregate(m=Max("id"))["m"] or 0
    max_r = Representative.objects.aggregate(m=Max("id"))["m"] or 0
    workdir = Path(tempfile.mkdtemp(prefix="ansinh-bench-"))
    path = workdir / f"import-{args.rows}.xlsx"
    started = time.monotonic()
    facts = build_file(path, commune=commune, rows=args.rows)
    facts["build_s"] = time.monotonic() - started
    c.say(
        f"file: {facts['rows']:,} rows ({facts['with_representative']:,} with a representative, "
        f"{facts['villages']} villages), {c.mb(facts['bytes'])}, built in {facts['build_s']:.1f} s "
        f"({facts['cccd_redraws']} CCCDs redrawn as taken)"
    )
    phases = {}
    try:
        for phase in ("import", "reimport"):
            r = run_phase(url, phase, path, commune.pk, user.pk)
            phases[phase] = r
            c.say(
                f"  {phase:<9} check_file {r['check_s']:6.1f} s (per-row part {r['rows_validated_s'] or 0:5.1f} s)"
                f"  apply_plan {r['apply_s']:6.1f} s  peak RSS {c.mb(r['peak_rss'])} "
                f"(Django alone {c.mb(r['baseline_rss'])})  plan {r['plan']}"
            )
            if r["plan"]["error_rows"]:
                c.say(f"    errors, e.g.: {r['first_errors']}")
    finally:
        if not args.keep:
            started = time.monotonic()
            deleted = _cleanup(commune.pk, max_b, max_r)
            _vacuum()  # the deleted rows would otherwise slow the next search benchmark
            c.say(f"cleanup: {deleted:,} imported beneficiaries deleted in {time.monotonic() - started:.1f} s")
        if args.keep_file:
            c.say(f"file kept: {path}")
        else:
            path.unlink(missing_ok=True)
            os.rmdir(workdir)

    first, again = phases["import"], phases["reimport"]
    total = first["check_s"] + first["apply_s"]
    worker = 2 * first["check_s"] + first["apply_s"]
    peak = max(p["peak_rss"] for p in phases.values())
    ok_rows = first["result"]["created"] == facts["rows"] and first["plan"]["error_rows"] == 0
    ok_again = again["result"] == {"created": 0, "updated": 0, "unchanged": facts["rows"]}
    met = ok_rows and ok_again and total < TARGET_SECONDS and peak < TARGET_MB * 1024 * 1024
    c.say(
        f"import (check_file + apply_plan): {total:.1f} s (target < {TARGET_SECONDS} s) "
        f"{'OK' if total < TARGET_SECONDS else 'MISSED'}; peak RSS {c.mb(peak)} (target < {TARGET_MB} MB) "
        f"{'OK' if peak < TARGET_MB * 1024 * 1024 else 'MISSED'}; via the worker (check, then re-check + write) "
        f"{worker:.1f} s"
    )
    c.say(
        f"re-import: {again['check_s'] + again['apply_s']:.1f} s, {again['result']} "
        f"{'OK (all unchanged)' if ok_again else 'NOT ALL UNCHANGED'}"
    )
    return {
        "rows": facts["rows"],
        "file_mb": facts["bytes"] / 1024 / 1024,
        "build_s": facts["build_s"],
        "registry_size": registry_size,
        "check_s": first["check_s"],
        "apply_s": first["apply_s"],
        "total_s": total,
        "worker_s": worker,
        "reimport_s": again["check_s"] + again["apply_s"],
        "peak_rss_mb": {k: p["peak_rss"] / 1024 / 1024 for k, p in phases.items()},
        "baseline_rss_mb": first["baseline_rss"] / 1024 / 1024,
        "created": first["result"]["created"],
        "reimport": again["result"],
        "ok": met,
    }


if __name__ == "__main__":
    result = main()
    if result:
        sys.exit(0 if result["ok"] else 1)
