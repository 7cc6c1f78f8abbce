"""python manage.py export_disbursement --period YYYY-MM --area CODE --format pain.001|xlsx --out FILE

Makes (or completes) the transfer batches of every approved and funded cycle of that month in
the area, and writes each batch's file: FILE for a single batch, FILE with "-2", "-3"… before
the extension for the others. Prints a JSON summary (batches, transfers, held, total amount, the
SHA-256 of each file). Safe to re-run: no second instruction for a line, and a batch already
written is written again byte for byte (the same SHA-256)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from ansinh.core.errors import DomainError
from ansinh.disbursement.batches import BATCHABLE_STATES, build_batches, write_file
from ansinh.disbursement.models import FileFormat, ProviderBatch
from ansinh.payroll.management.commands.open_cycles import area_by_code, parse_period
from ansinh.payroll.models import PaymentCycle


def numbered(out: Path, n: int) -> Path:
    return out if n == 1 else out.with_name(f"{out.stem}-{n}{out.suffix}")


class Command(BaseCommand):
    help = "Write the transfer files (pain.001 or the provider's XLSX) of a month's cycles in an area."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM: the month the allowance is for")
        parser.add_argument("--area", required=True, help="official code of a province, district or commune")
        parser.add_argument("--format", required=True, choices=FileFormat.values, dest="file_format")
        parser.add_argument("--out", required=True, help="the file to write")

    def handle(self, *args, period: str, area: str, file_format: str, out: str, **options):
        month = parse_period(period)
        where = area_by_code(area, month)
        cycles = (
            PaymentCycle.objects.filter(month=month, state__in=BATCHABLE_STATES)
            .filter(Q(area_path__startswith=where.path) | Q(area_id__in=where.ancestor_ids()))
            .order_by("area_path", "programme__code", "pk")
        )
        summary: dict = {
            "period": f"{month:%Y-%m}",
            "area": where.code,
            "format": file_format,
            "files": [],
            "notes": [],
        }
        n = 0
        for cycle in cycles:
            try:
                built = build_batches(actor=None, cycle=cycle)
            except DomainError as exc:
                summary["notes"].append({"cycle": cycle.pk, "reason": str(exc)})
                continue
            summary["notes"] += [{"cycle": cycle.pk, "reason": r} for r in built.refusals]
            for batch in ProviderBatch.objects.filter(cycle=cycle).order_by("sequence"):
                n += 1
                path = numbered(Path(out), n)
                try:
                    with path.open("wb") as f:
                        exported = write_file(actor=None, batch=batch, file_format=file_format, out=f)
                except DomainError as exc:
                    path.unlink(missing_ok=True)
                    n -= 1
                    summary["notes"].append({"batch": batch.message_id, "reason": str(exc)})
                    continue
                batch.refresh_from_db()
                summary["files"].append(
                    {
                        "file": str(path),
                        "batch": batch.message_id,
                        "cycle": cycle.pk,
                        "transfers": exported.instructions_count,
                        "total_amount": exported.total_amount,
                        "sha256": exported.sha256,
                        "state": batch.state,
                    }
                )
        if not summary["files"] and not summary["notes"]:
            raise CommandError(f"no approved and funded cycle with transfers for {month:%Y-%m} in {where.code}")
        summary["transfers"] = sum(f["transfers"] for f in summary["files"])
        summary["total_amount"] = sum(f["total_amount"] for f in summary["files"])
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
