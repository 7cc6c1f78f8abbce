"""Models of ansinh.lookup (issue 12): the beneficiary's public status lookup at /tra-cuu/.

- `LookupLog`: one row per request that asked something (a look-up with the phone digits, a
  request for a code, a code entered), with keyed hashes of the CCCD and of the client (HMAC with
  SECRET_KEY: the raw number and address are never stored), its outcome and, when the person was
  found, the beneficiary (officers count the look-ups of their area through it).
- `LookupCode`: a one-time code sent by SMS: 6 digits, stored as a salted keyed hash, valid 10
  minutes, 3 tries, used once.
- `RateCounter`: fixed-window counters shared by every server process (the configured cache is
  per process): one row per key and window, incremented by one atomic upsert, deleted once its
  window is over."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LookupKind(models.TextChoices):
    PHONE = "phone", _("CCCD and phone digits")
    CODE_REQUEST = "code_request", _("Code asked by SMS")
    CODE = "code", _("CCCD and SMS code")


class LookupOutcome(models.TextChoices):
    SHOWN = "shown", pgettext_lazy("lookup", "Status shown")
    NO_MATCH = "no_match", pgettext_lazy("lookup", "No match")
    RATE_LIMITED = "rate_limited", pgettext_lazy("lookup", "Too many attempts")
    OTP_SENT = "otp_sent", pgettext_lazy("lookup", "Code sent")
    OTP_FAILED = "otp_failed", pgettext_lazy("lookup", "Wrong or expired code")


class LookupLog(models.Model):
    at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=12, choices=LookupKind.choices)
    cccd_hash = models.CharField(max_length=64, blank=True)
    client_hash = models.CharField(max_length=64)
    outcome = models.CharField(_("outcome"), max_length=12, choices=LookupOutcome.choices)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("status lookup")
        verbose_name_plural = _("status lookups")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["cccd_hash", "at"], name="lookup_log_cccd_at")]
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=LookupOutcome.values), name="lookup_log_outcome"),
            models.CheckConstraint(condition=models.Q(kind__in=LookupKind.values), name="lookup_log_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome}"


class LookupCode(models.Model):
    """A one-time code for the look-up of one CCCD (`cccd_hash`). A request for an unknown CCCD
    writes a row too (no beneficiary, a code nobody received): both answers cost the same."""

    cccd_hash = models.CharField(max_length=64)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lookup code")
        verbose_name_plural = _("lookup codes")
        indexes = [models.Index(fields=["cccd_hash", "expires_at"], name="lookup_code_cccd_exp")]

    def __str__(self) -> str:
        return f"{self.cccd_hash[:8]} {self.created_at:%H:%M}"


class RateCounter(models.Model):
    key = models.CharField(max_length=100, unique=True)  # "<scope>:<hash>:<window number>"
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
