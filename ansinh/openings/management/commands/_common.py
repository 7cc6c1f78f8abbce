"""What the account-opening commands share: the actor (--user, as verify_identities) and the
commune (--area with --tree)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from ansinh.accounts.models import User
from ansinh.areas.models import Area, Level


def actor_of(username: str | None):
    if not username:
        return None
    actor = User.objects.filter(username=username, is_active=True).first()
    if actor is None:
        raise CommandError(_("No active user named %(username)s.") % {"username": username})
    return actor


def commune_of(code: str, tree: str | None) -> Area:
    communes = Area.objects.filter(code=code, level=Level.COMMUNE)
    if tree:
        communes = communes.filter(tree=tree)
    if not communes:
        raise CommandError(_("No commune with code %(code)s.") % {"code": code})
    if len(communes) > 1:
        raise CommandError(
            _("Code %(code)s is used in both area trees; add --tree legacy or --tree current.") % {"code": code}
        )
    return communes[0]
