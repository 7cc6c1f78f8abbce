"""The notification outbox: one row per message to one person, queued by any service of the
system (`services.queue`), sent after the commit by `services.send_due` through the configured
gateway (`gateways`), its delivery followed by `services.poll_delivery`.

A message is scoped by its area (`area_path`, a copy of the area's path that the areas app
re-paths with the tree). Its text is rendered when it is queued and never changes; the
`idempotency_key` makes queuing the same notice twice (a re-run of a job, a retried request)
return the row already there.

Channels: an SMS (sent by the gateway), a message in the application (delivered when queued), and
the village head's list (`Channel.VILLAGE`): the notice of a person who cannot read Vietnamese or
has no phone, queued on the list of their village (`area`), read out by the village head and
marked delivered by them (`services.mark_village_delivered`); never handed to the gateway."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ansinh.core.masking import mask_number


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    IN_APP = "in_app", _("In the application")
    # for a person who cannot read an SMS in Vietnamese or has no phone: on the printed list the
    # village head reads out, marked delivered when they have told the person (never sent)
    VILLAGE = "village", _("Village head's list")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.SMS)
    phone = models.CharField(_("recipient phone"), max_length=16, blank=True, help_text=_("E.164, e.g. +84912345678"))
    # who the message is for: at most one of them (the phone is copied at queue time)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    representative = models.ForeignKey(
        "registry.Representative", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area_path = models.CharField(max_length=255, editable=False, blank=True, db_index=True)
    template_key = models.CharField(_("template"), max_length=64)
    variables = models.JSONField(default=dict, blank=True)
    text = models.TextField(_("text"))
    encoding = models.CharField(max_length=8, default="gsm7")  # gsm7 or ucs2 (SMS only)
    segments = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    gateway = models.CharField(max_length=20, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "delivered", "failed"]), name="notif_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_key} → {self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return mask_number(self.phone, visible=3)

    @property
    def audit_area(self):
        return self.area
