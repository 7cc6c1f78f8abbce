"""Tokens created before tokens had a default lifetime never expired: give each active one the
default lifetime (ANSINH_API_TOKEN_DAYS) from now, with one audit event saying how many."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def give_tokens_an_end(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    days = int(getattr(settings, "ANSINH_API_TOKEN_DAYS", 90))
    expires_at = timezone.now() + timedelta(days=days)
    endless = ApiToken.objects.filter(expires_at__isnull=True, revoked_at__isnull=True)
    ids = list(endless.values_list("pk", flat=True))
    if not ids:
        return
    endless.update(expires_at=expires_at)
    AuditEvent.objects.create(
        actor_label="system",
        action="accounts.api_token.expiry_set",
        after={"tokens": len(ids), "expires_at": expires_at.isoformat(), "days": days},
        note="migration accounts 0002",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0004_list_indexes"),
    ]

    operations = [migrations.RunPython(give_tokens_an_end, migrations.RunPython.noop)]
