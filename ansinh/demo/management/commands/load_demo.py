"""Load the demo: policy, An Giang's pre-2025 area tree, organisations, one user per role and
(from the registry issue on) a synthetic registry. Idempotent: a second run changes nothing."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ansinh.areas.services import load_legacy_province
from ansinh.demo import organisations
from ansinh.policy.services import load_policy


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the logins")

    def handle(self, *args, **options):
        load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)
        load_legacy_province(actor=None, code=organisations.PROVINCE_CODE)
        organisations.load_organisations()
        logins = organisations.load_users()
        if options["quiet_logins"]:
            return
        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s)") % {"password": organisations.DEMO_PASSWORD})
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username.ljust(width)}  {login.role} — {login.area}")
        self.stdout.write("")
