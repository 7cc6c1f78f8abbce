from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.accounts.models import User
from ansinh.accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label for the token")

    def handle(self, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user named %(username)s.") % {"username": username})
        _token, raw = create_api_token(actor=None, user=user, name=name)
        self.stdout.write(raw)
