"""python manage.py verify_identities --area CODE [--tree legacy|current] [--user USERNAME]

Verifies the identities of a commune's beneficiaries and representatives against the population
database (the adapter of ANSINH_POPULATION_ADAPTER) and prints a JSON summary of the run: run,
commune, date, sequence, source, checked, match, mismatch, not_found, deceased, without_cccd.
Safe to re-run: each run is a new version, earlier runs stay. Exits 2 when the population
database cannot answer (nothing is stored then)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.accounts.models import User
from ansinh.areas.models import Area, Level
from ansinh.verification.adapters import AdapterError
from ansinh.verification.services import run_verification


class Command(BaseCommand):
    help = "Verify a commune's identities against the population database; prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--area", required=True, help="official code of the commune")
        parser.add_argument(
            "--tree",
            choices=["legacy", "current"],
            help="which area tree the code belongs to (needed when both trees use the code)",
        )
        parser.add_argument("--user", help="username recorded as the actor (must be allowed to verify there)")
        parser.add_argument("--adapter", help="adapter name (default: the ANSINH_POPULATION_ADAPTER setting)")

    def handle(self, area, user=None, tree=None, adapter=None, **options):
        communes = Area.objects.filter(code=area, level=Level.COMMUNE)
        if tree:
            communes = communes.filter(tree=tree)
        if not communes:
            raise CommandError(_("No commune with code %(code)s.") % {"code": area})
        if len(communes) > 1:
            raise CommandError(
                _("Code %(code)s is used in both area trees; add --tree legacy or --tree current.") % {"code": area}
            )
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user named %(username)s.") % {"username": user})
        try:
            run = run_verification(actor=actor, commune=communes[0], adapter_name=adapter)
        except AdapterError as exc:
            self.stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False))
            sys.exit(2)
        self.stdout.write(json.dumps(run.summary(), ensure_ascii=False))
