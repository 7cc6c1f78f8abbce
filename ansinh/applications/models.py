"""Applications for the monthly allowance (hồ sơ đề nghị, Decree 20/2021 Art. 7-8): received
online (the public site) or at the commune counter, reviewed by the commune, posted publicly for
two working days (never HIV information), then decided by the competent chairperson — the
commune's since 2025-07-01 — whose decision creates or restarts the beneficiary through the
registry's services.

Scoping: every application carries `area_path`, the path of its village (or commune), as the
registry's beneficiaries do."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ansinh.core.masking import mask_number
from ansinh.registry.models import Gender


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("At the commune counter")


class State(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    RETURNED = "returned_for_more", _("Returned for more documents")
    POSTED = "posted", _("Posted publicly")
    APPROVED = "decided_approved", _("Approved")
    REJECTED = "decided_rejected", _("Not approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


FINAL_STATES = frozenset({State.APPROVED, State.REJECTED, State.WITHDRAWN})
OPEN_STATES = frozenset(set(State.values) - FINAL_STATES)

# The one map of allowed state changes (django-oscar style); services.change_state is the only writer.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.SUBMITTED: frozenset({State.UNDER_REVIEW, State.RETURNED, State.REJECTED, State.WITHDRAWN}),
    State.UNDER_REVIEW: frozenset({State.POSTED, State.RETURNED, State.REJECTED, State.WITHDRAWN}),
    State.RETURNED: frozenset({State.SUBMITTED, State.REJECTED, State.WITHDRAWN}),
    State.POSTED: frozenset({State.APPROVED, State.REJECTED, State.WITHDRAWN}),
    State.APPROVED: frozenset(),
    State.REJECTED: frozenset(),
    State.WITHDRAWN: frozenset(),
}


class Application(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.SUBMITTED)

    # the applicant (the person who would receive the allowance)
    full_name = models.CharField(_("full name"), max_length=150)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    cccd = models.CharField(_("citizen ID (CCCD)"), max_length=12, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        "areas.Area", verbose_name=_("village"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address (house, street)"), max_length=255, blank=True)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)

    # someone applying on the applicant's behalf
    rep_name = models.CharField(_("representative's full name"), max_length=150, blank=True)
    rep_cccd = models.CharField(_("representative's CCCD"), max_length=12, blank=True)
    rep_phone = models.CharField(_("representative's phone"), max_length=16, blank=True)
    rep_relationship = models.CharField(_("relationship to the applicant"), max_length=60, blank=True)

    # the category claimed: the same values as the registry's decision form ("code|condition|fixed_key")
    category = models.ForeignKey("policy.Category", verbose_name=_("category claimed"), on_delete=models.PROTECT)
    condition = models.CharField(_("condition"), max_length=60, blank=True)
    fixed_key = models.CharField(_("fixed-amount key"), max_length=60, blank=True)
    note = models.TextField(_("note"), blank=True)

    submitted_at = models.DateTimeField(_("submitted at"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # the commune's review
    review_comment = models.TextField(_("comment to the applicant"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # the public posting (two working days)
    posting_starts = models.DateField(_("posting starts"), null=True, blank=True)
    posting_ends = models.DateField(_("posting ends"), null=True, blank=True)
    # the decision
    decision_number = models.CharField(_("decision number"), max_length=60, blank=True)
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    decision_signer = models.CharField(_("signed by"), max_length=150, blank=True)
    decision_signer_title = models.CharField(_("signer's title"), max_length=255, blank=True)
    start_month = models.DateField(_("start month"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    decision = models.ForeignKey(
        "registry.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["area_path"], name="appl_area_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["commune", "state", "posting_starts"], name="appl_commune_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="posted") | Q(posting_starts__isnull=False, posting_ends__isnull=False),
                name="appl_posted_has_dates",
            ),
            models.CheckConstraint(
                condition=~Q(state="decided_approved") | Q(beneficiary__isnull=False, decision_date__isnull=False),
                name="appl_approved_has_beneficiary",
            ),
        ]

    def __str__(self) -> str:
        # the audit log's object_repr: the reference only (no name, no category)
        return self.reference

    @property
    def audit_area(self):
        return self.village or self.commune

    @property
    def masked_cccd(self) -> str:
        return mask_number(self.cccd)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def can_become(self, state: str) -> bool:
        return state in TRANSITIONS.get(self.state, frozenset())

    @property
    def entitlement(self) -> str:
        return f"{self.category.code}|{self.condition}|{self.fixed_key}"


class AttachmentKind(models.TextChoices):
    CCCD = "cccd_copy", _("Copy of the CCCD")
    MEDICAL = "medical", _("Medical or disability certificate")
    HOUSEHOLD = "household", _("Household confirmation")
    OTHER = "other", _("Other document")


class Attachment(models.Model):
    """A document of an application. Stored under MEDIA_ROOT/applications/ under a random name
    (the original name is kept apart); handed out only through the staff download view, which
    is logged."""

    MAX_SIZE: ClassVar[int] = 5 * 1024 * 1024
    MAX_FILES: ClassVar[int] = 10

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=12, choices=AttachmentKind.choices)
    file = models.FileField(upload_to="applications/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return f"{self.application.reference} #{self.pk}"

    @property
    def audit_area(self):
        return self.application.audit_area


class PublicAttempt(models.Model):
    """A request of the public pages that the rate limits count: an online submission or a status
    check, per client (a keyed hash of the address, never the address itself) and, for status
    checks, per reference."""

    kind = models.CharField(max_length=10)
    client = models.CharField(max_length=64)
    subject = models.CharField(max_length=40, blank=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "client", "at"], name="appl_attempt_client_idx"),
            models.Index(fields=["kind", "subject", "at"], name="appl_attempt_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
