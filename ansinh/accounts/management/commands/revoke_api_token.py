from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ansinh.accounts.models import ApiToken
from ansinh.accounts.services import revoke_api_token


class Command(BaseCommand):
    help = "Revoke API tokens by prefix (the first 12 characters) or all tokens of a user."

    def add_arguments(self, parser):
        parser.add_argument("--prefix")
        parser.add_argument("--user")

    def handle(self, prefix, user, **options):
        qs = ApiToken.objects.filter(revoked_at__isnull=True)
        if prefix:
            qs = qs.filter(key_prefix=prefix[:12])
        elif user:
            qs = qs.filter(user__username=user)
        else:
            raise CommandError(_("Give --prefix or --user."))
        n = 0
        for token in qs:
            revoke_api_token(actor=None, token=token)
            n += 1
        self.stdout.write(_("%(n)d token(s) revoked.") % {"n": n})
