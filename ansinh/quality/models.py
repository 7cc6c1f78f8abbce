"""Data-quality worklists: one open item per problem found in the registry and the payment data
(kind, beneficiary, and the receiving account where the problem is an account's), opened when a
refresh finds the problem and closed (`closed_at`) when a later refresh no longer finds it.

Items are derived data: `services.refresh` recomputes them set-based, per kind, for an area.
`detail` holds what the page shows besides the person (which fields differ, how many people an
account receives for, the other record's id): never a full CCCD or account number and never a
category (the sensitive ones must not leak through a list)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CCCD_MISSING = "cccd_missing", _("No CCCD")
    CCCD_INVALID = "cccd_invalid", _("Invalid CCCD")
    PHONE_MISSING = "phone_missing", _("No phone number")
    PHONE_INVALID = "phone_invalid", _("Invalid phone number")
    NO_METHOD = "no_method", _("No payment method")
    NO_PAYEE = "no_payee", _("No payee")
    UNVERIFIED = "unverified", _("Identity not verified")
    IDENTITY_MISMATCH = "identity_mismatch", _("Identity does not match the population database")
    DECEASED = "deceased", _("Deceased according to the population database")
    WEAK_NAME = "weak_name", _("Account holder name not confirmed")
    NOT_REPRESENTED = "not_represented", _("Account holder does not represent the beneficiary")
    SHARED_ACCOUNT = "shared_account", _("One account receives for too many people")
    STOPPED_PAYABLE = "stopped_payable", _("Stopped beneficiary still has an open account")
    DUPLICATE_CCCD = "duplicate_cccd", _("Likely duplicate: same CCCD")
    DUPLICATE_NAME = "duplicate_name", _("Likely duplicate: same name and date of birth")


class WorklistItem(models.Model):
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    # the beneficiary's area path (village or commune), for prefix scoping like the registry
    area_path = models.CharField(max_length=255)
    kind = models.CharField(_("problem"), max_length=20, choices=Kind.choices)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", verbose_name=_("beneficiary"), on_delete=models.CASCADE, related_name="+"
    )
    account = models.ForeignKey(
        "payments.ReceivingAccount",
        verbose_name=_("receiving account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    detail = models.JSONField(_("details"), default=dict, blank=True)
    opened_at = models.DateTimeField(_("found on"))
    closed_at = models.DateTimeField(_("resolved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("worklist item")
        verbose_name_plural = _("worklist items")
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "beneficiary"],
                condition=Q(closed_at__isnull=True, account__isnull=True),
                name="worklist_one_open_item",
            ),
            models.UniqueConstraint(
                fields=["kind", "beneficiary", "account"],
                condition=Q(closed_at__isnull=True, account__isnull=False),
                name="worklist_one_open_account_item",
            ),
        ]
        indexes = [
            # the open items of an area prefix, by kind (the page, the counts, the refresh)
            models.Index(
                fields=["area_path", "kind"],
                condition=Q(closed_at__isnull=True),
                name="worklist_open_area_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["beneficiary", "kind"], name="worklist_beneficiary_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.beneficiary_id})"

    @property
    def audit_area(self):
        return self.commune


class WorklistRefresh(models.Model):
    """When the worklists of an area (a commune from its page's refresh button, a province from
    `refresh_worklists`) were last refreshed: the page shows it ("updated at")."""

    area = models.OneToOneField("areas.Area", on_delete=models.CASCADE, related_name="+")
    area_path = models.CharField(max_length=255, editable=False)  # the area's path (areas.copies)
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.area_id} {self.refreshed_at:%Y-%m-%d %H:%M}"
