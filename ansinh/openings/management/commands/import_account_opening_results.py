"""python manage.py import_account_opening_results FILE [--user USERNAME] [--area CODE [--tree T]]
python manage.py import_account_opening_results --sandbox-batch ID --out FILE

Imports the provider's results file (XLSX or CSV: request code, result, account number, date
opened, holder name, reason for a rejection) and prints a JSON summary (rows, opened, rejected,
unchanged, activated, to_review, switch_requested, error_rows, errors). All or nothing: exits 1
and writes nothing when a row has an error. Importing the same file again changes nothing
("duplicate": true). With --sandbox-batch, writes the sandbox provider's results for that batch
to --out instead (the demo's provider; ANSINH_OPENINGS_PROVIDER=sandbox)."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.openings import sandbox
from ansinh.openings.models import OpeningBatch
from ansinh.openings.services import import_results

from ._common import actor_of, commune_of


class Command(BaseCommand):
    help = "Import the provider's account-opening results; prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the results file (.xlsx or .csv)")
        parser.add_argument("--user", help="username recorded as the actor (must manage account opening there)")
        parser.add_argument("--area", help="official code of the commune the file answers for (optional)")
        parser.add_argument("--tree", choices=["legacy", "current"], help="which area tree the code belongs to")
        parser.add_argument("--sandbox-batch", type=int, help="write the sandbox's results for this batch to --out")
        parser.add_argument("--out", help="with --sandbox-batch: where to write the results file")

    def handle(self, file=None, user=None, area=None, tree=None, sandbox_batch=None, out=None, **options):
        if sandbox_batch:
            if not sandbox.enabled():
                raise CommandError(_("The sandbox provider is not enabled (ANSINH_OPENINGS_PROVIDER)."))
            batch = OpeningBatch.objects.filter(pk=sandbox_batch).select_related("institution").first()
            if batch is None or not out:
                raise CommandError(_("Give an existing batch and --out."))
            _name, content = sandbox.answer_batch(batch)
            Path(out).write_bytes(content)
            self.stdout.write(json.dumps({"batch": batch.pk, "file": out}, ensure_ascii=False))
            return
        if not file:
            raise CommandError(_("Give the results file."))
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No file %(file)s.") % {"file": file})
        commune = commune_of(area, tree) if area else None
        outcome = import_results(actor=actor_of(user), content=path.read_bytes(), file_name=path.name, commune=commune)
        self.stdout.write(json.dumps(outcome.summary(), ensure_ascii=False, default=str))
        if not outcome.ok:
            sys.exit(1)
