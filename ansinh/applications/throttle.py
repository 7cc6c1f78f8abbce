"""Rate limits of the public application pages, kept in the database (so that they hold across
worker processes): a client is a keyed hash of its address, never the address itself.

- online submissions: at most SUBMIT_PER_HOUR per client an hour and SUBMIT_PER_DAY a day;
- status checks: at most CHECK_PER_CLIENT per client in CHECK_WINDOW, and at most
  CHECK_FAILURES_PER_REFERENCE failed checks of one reference in CHECK_WINDOW (the four phone
  digits cannot be tried out)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.core.clients import client_address
from ansinh.core.errors import DomainError

from .models import PublicAttempt

SUBMIT = "submit"
CHECK = "check"
SUBMIT_PER_HOUR = 5
SUBMIT_PER_DAY = 20
CHECK_WINDOW = timedelta(minutes=15)
CHECK_PER_CLIENT = 20
CHECK_FAILURES_PER_REFERENCE = 5


class TooManyAttempts(DomainError):
    """Refused by a rate limit; the message says when to try again."""


def client_key(request) -> str:
    """A keyed hash of the client's address (behind a reverse proxy, the one it forwarded)."""
    address = (client_address(request) or "unknown").encode()
    return hmac.new(settings.SECRET_KEY.encode(), address, hashlib.sha256).hexdigest()


def _count(**filters) -> int:
    return PublicAttempt.objects.filter(**filters).count()


def check_submission(client: str) -> None:
    now = timezone.now()
    if _count(kind=SUBMIT, client=client, at__gte=now - timedelta(hours=1)) >= SUBMIT_PER_HOUR or (
        _count(kind=SUBMIT, client=client, at__gte=now - timedelta(days=1)) >= SUBMIT_PER_DAY
    ):
        raise TooManyAttempts(
            _("Too many applications were sent from this connection. Please try again later or apply at the commune.")
        )


def check_status_lookup(client: str, reference: str) -> None:
    since = timezone.now() - CHECK_WINDOW
    if _count(kind=CHECK, client=client, at__gte=since) >= CHECK_PER_CLIENT or (
        _count(kind=CHECK, subject=reference, succeeded=False, at__gte=since) >= CHECK_FAILURES_PER_REFERENCE
    ):
        raise TooManyAttempts(_("Too many attempts. Please wait 15 minutes and try again."))


def count(kind: str, client: str, subject: str = "", *, succeeded: bool = False) -> None:
    """Count an attempt, in its own transaction when none is open (a refused submission still
    counts)."""
    with transaction.atomic():
        PublicAttempt.objects.create(kind=kind, client=client, subject=subject[:40], succeeded=succeeded)


def purge(older_than: timedelta = timedelta(days=2)) -> int:
    deleted, _ = PublicAttempt.objects.filter(at__lt=timezone.now() - older_than).delete()
    return deleted
