"""Account opening with the provider (the post office's partner bank): requests collected by
village heads and commune officers, confirmed by the commune, exported in batches (an XLSX the
provider reads), and the provider's results imported back (opened with an account number and a
date, or rejected with a reason).

A request names a person: the beneficiary themself (`representation` empty) or one of their
representatives. What was sent to the provider is kept on the request as it was at export
(`full_name` … `address`), so a later correction in the registry does not change what the
provider was told."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ansinh.core.masking import mask_number

CODE_PREFIX = "MTK"


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested, awaiting the commune")
    CONFIRMED = "confirmed", _("Confirmed by the commune")
    EXPORTED = "exported", _("Sent to the provider")
    OPENED = "opened", _("Account opened")
    REJECTED = "rejected", _("Rejected by the provider")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (RequestStatus.REQUESTED, RequestStatus.CONFIRMED, RequestStatus.EXPORTED)

# The status changes a request may make (django-oscar style allowed-transitions map).
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.REQUESTED: frozenset({RequestStatus.CONFIRMED, RequestStatus.CANCELLED}),
    RequestStatus.CONFIRMED: frozenset({RequestStatus.EXPORTED, RequestStatus.CANCELLED}),
    RequestStatus.EXPORTED: frozenset({RequestStatus.OPENED, RequestStatus.REJECTED}),
    RequestStatus.OPENED: frozenset(),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.CANCELLED: frozenset(),
}


class OpeningBatch(models.Model):
    """The confirmed requests of one commune sent to the provider in one file."""

    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    institution = models.ForeignKey(
        "payments.Institution", verbose_name=_("provider bank"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(_("exported at"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=120)
    # the file as sent (it holds full CCCDs: downloaded only by those who manage openings there)
    content = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    count = models.PositiveIntegerField(_("requests"), default=0)

    class Meta:
        verbose_name = _("opening batch")
        verbose_name_plural = _("opening batches")
        ordering = ["-exported_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def audit_area(self):
        return self.commune


class OpeningRequest(models.Model):
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", verbose_name=_("beneficiary"), on_delete=models.PROTECT, related_name="opening_requests"
    )
    # None: the beneficiary opens the account; else this representative (guardian, authorised person)
    representation = models.ForeignKey(
        "registry.Representation",
        verbose_name=_("opened by (representative)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    # the beneficiary's area path when requested (scoping: one indexed prefix filter)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.REQUESTED
    )
    switch_method = models.BooleanField(_("switch to account payment"), default=False)
    institution = models.ForeignKey(
        "payments.Institution", verbose_name=_("provider bank"), on_delete=models.PROTECT, related_name="+"
    )
    # what was sent to the provider, as it was at export
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    cccd = models.CharField(_("citizen ID (CCCD)"), max_length=12, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    address = models.CharField(_("address"), max_length=400, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    batch = models.ForeignKey(
        OpeningBatch, verbose_name=_("batch"), null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    # the provider's answer
    account = models.ForeignKey(
        "payments.ReceivingAccount",
        verbose_name=_("receiving account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    reject_reason = models.CharField(_("reason for rejection"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("account-opening request")
        verbose_name_plural = _("account-opening requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # one open request per person per beneficiary (the beneficiary themself, or each representative)
            models.UniqueConstraint(
                fields=["beneficiary"],
                condition=Q(status__in=["requested", "confirmed", "exported"], representation__isnull=True),
                name="opening_one_open_request_self",
            ),
            models.UniqueConstraint(
                fields=["beneficiary", "representation"],
                condition=Q(status__in=["requested", "confirmed", "exported"], representation__isnull=False),
                name="opening_one_open_request_representative",
            ),
        ]
        indexes = [
            models.Index(fields=["commune", "status"], name="opening_commune_status_idx"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        """The request code the provider's file carries back ("MTK0000123")."""
        return f"{CODE_PREFIX}{self.pk:07d}"

    @staticmethod
    def pk_of(code: str) -> int | None:
        text = (code or "").strip().upper()
        if text.startswith(CODE_PREFIX):
            text = text[len(CODE_PREFIX) :]
        return int(text) if text.isdigit() and 0 < int(text) < 2**63 else None

    @property
    def audit_area(self):
        return self.beneficiary.audit_area

    @property
    def masked_cccd(self) -> str:
        return mask_number(self.cccd)

    def set_status(self, status: str) -> None:
        if status not in REQUEST_TRANSITIONS[self.status]:
            raise ValidationError(_("This request cannot change to that status."))
        self.status = status


class OpeningResultImport(models.Model):
    """A results file from the provider that was written. The checksum is unique: importing the
    same file again changes nothing. A file with a row error writes nothing and leaves no row."""

    commune = models.ForeignKey(
        "areas.Area", verbose_name=_("commune"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area_path = models.CharField(max_length=255, editable=False, db_index=True, blank=True)
    batch = models.ForeignKey(
        OpeningBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="result_imports"
    )
    sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(_("file name"), max_length=255)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    opened = models.PositiveIntegerField(_("opened"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    activated = models.PositiveIntegerField(_("activated"), default=0)
    to_review = models.PositiveIntegerField(_("holder name to review"), default=0)
    switch_requested = models.PositiveIntegerField(_("payment switch requested"), default=0)

    class Meta:
        verbose_name = _("opening results import")
        verbose_name_plural = _("opening results imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    def summary(self) -> dict:
        return {
            "import": self.pk,
            "file": self.file_name,
            "rows": self.rows,
            "opened": self.opened,
            "rejected": self.rejected,
            "unchanged": self.unchanged,
            "activated": self.activated,
            "to_review": self.to_review,
            "switch_requested": self.switch_requested,
        }
