from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.models import User
from ansinh.accounts.services import create_api_token


class Command(BaseCommand):
    help = (
        "Create a personal API token for a user and print it (shown once; only its hash is stored). "
        "It expires after --days days (default: ANSINH_API_TOKEN_DAYS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label for the token")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"lifetime in days (default {settings.ANSINH_API_TOKEN_DAYS}, from ANSINH_API_TOKEN_DAYS)",
        )

    def handle(self, username, name, days, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user named %(username)s.") % {"username": username})
        try:
            token, raw = create_api_token(actor=None, user=user, name=name, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(raw)  # alone on stdout, for scripts
        expires = timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")
        self.stderr.write(_("The token expires on %(date)s.") % {"date": expires})
