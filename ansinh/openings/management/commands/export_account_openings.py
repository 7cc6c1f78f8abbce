"""python manage.py export_account_openings --area CODE --out FILE [--tree legacy|current] [--user USERNAME]

Puts every confirmed account-opening request of a commune into one XLSX for the provider (full
CCCDs: keep the file safe), writes it to FILE and prints a JSON summary: batch, commune, count,
file, sha256, institution. Exits 1 when there is nothing to export. Safe to re-run: a request is
exported once; a second run finds nothing new."""

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from ansinh.openings.services import export_batch

from ._common import actor_of, commune_of


class Command(BaseCommand):
    help = "Export a commune's confirmed account-opening requests for the provider; prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--area", required=True, help="official code of the commune")
        parser.add_argument("--out", required=True, help="where to write the XLSX file")
        parser.add_argument("--tree", choices=["legacy", "current"], help="which area tree the code belongs to")
        parser.add_argument("--user", help="username recorded as the actor (must manage account opening there)")

    def handle(self, area, out, tree=None, user=None, **options):
        commune = commune_of(area, tree)
        try:
            batch = export_batch(actor=actor_of(user), commune=commune)
        except ValidationError as exc:
            self.stdout.write(
                json.dumps({"commune": commune.code, "count": 0, "error": " ".join(exc.messages)}, ensure_ascii=False)
            )
            sys.exit(1)
        Path(out).write_bytes(bytes(batch.content))
        summary = {
            "batch": batch.pk,
            "commune": commune.code,
            "count": batch.count,
            "file": str(out),
            "sha256": batch.sha256,
            "institution": batch.institution.code,
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
