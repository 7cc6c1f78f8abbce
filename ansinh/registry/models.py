"""The beneficiary registry: people, the categories they are entitled under, decisions with an
effective month, a dated status history, and the representatives (guardians and authorised
persons) who may be paid for them.

Scoping: every beneficiary carries `area_path`, the path of its village (or commune when the
village is unknown), so "everything under this area" is one indexed prefix filter."""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ansinh.core.masking import mask_number
from ansinh.core.text import phone_display


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Status(models.TextChoices):
    ACTIVE = "active", _("Receiving")
    SUSPENDED = "suspended", _("Suspended")
    STOPPED = "stopped", _("Stopped")


class StopReason(models.TextChoices):
    DIED = "died", _("Died")
    MOVED = "moved", _("Moved to another commune")
    INELIGIBLE = "ineligible", _("No longer eligible")


# Which status changes a decision may make (django-oscar style allowed-transitions map).
STATUS_TRANSITIONS: dict[str, set[str]] = {
    Status.ACTIVE: {Status.SUSPENDED, Status.STOPPED},
    Status.SUSPENDED: {Status.ACTIVE, Status.STOPPED},
    Status.STOPPED: {Status.ACTIVE},  # a new start decision (e.g. moved back, eligible again)
}


class Beneficiary(models.Model):
    full_name = models.CharField(_("full name"), max_length=150)
    # Accent-free lowercase key (core.text.search_key). On PostgreSQL the column has the "C"
    # collation (set by migration registry 0004, unknown to Django's model state), so that the
    # (name_key, id) b-tree serves both prefix search and name order; an AlterField of this
    # field must keep COLLATE "C" (PostgreSQL resets it to the default otherwise).
    name_key = models.CharField(max_length=150, editable=False)
    # Vietnamese list order (core.text.name_sort_key: given name first, Vietnamese letter order),
    # for the list without a name typed and the exports; "C" collation on PostgreSQL (0006).
    sort_key = models.CharField(max_length=200, editable=False, default="")
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    cccd = models.CharField(_("citizen ID (CCCD)"), max_length=12, blank=True, db_index=True)
    # an old 9-digit ID card (CMND, valid only to 31/12/2024) from a legacy list, kept apart from
    # the CCCD until the person brings one (validation.check_identity); its name ends in
    # "id_number" so that the audit log masks it (core.masking)
    legacy_id_number = models.CharField(
        _("old ID card (CMND)"), max_length=9, blank=True, help_text=_("9 digits; replace it with the CCCD")
    )
    phone = models.CharField(_("phone"), max_length=16, blank=True, help_text=_("E.164, e.g. +84912345678"))
    ethnicity = models.CharField(_("ethnicity"), max_length=50, blank=True, default="Kinh")
    address = models.CharField(_("address (house, street)"), max_length=255, blank=True)
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        "areas.Area",
        verbose_name=_("village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    area_path = models.CharField(max_length=255, editable=False)
    # the pre-2025 commune the record was kept in before the 2025 reform moved it (areas.reform)
    legacy_commune = models.ForeignKey(
        "areas.Area",
        verbose_name=_("commune before 2025-07-01"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # needs flags: who must be paid at home or helped
    cannot_travel = models.BooleanField(_("cannot travel"), default=False)
    no_phone = models.BooleanField(_("has no phone"), default=False)
    cannot_read_vietnamese = models.BooleanField(_("cannot read Vietnamese"), default=False)
    frail = models.BooleanField(_("frail"), default=False)

    start_month = models.DateField(_("start month"), help_text=_("first day of the first paid month"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    stop_reason = models.CharField(_("stop reason"), max_length=12, choices=StopReason.choices, blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    end_month = models.DateField(_("last paid month"), null=True, blank=True)
    quality_issues = models.JSONField(_("data-quality issues"), default=list, blank=True)
    has_issues = models.BooleanField(default=False, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["sort_key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cccd"],
                condition=Q(status__in=["active", "suspended"]) & ~Q(cccd=""),
                name="beneficiary_unique_active_cccd",
            ),
            models.CheckConstraint(
                condition=~Q(status="stopped") | ~Q(stop_reason=""), name="beneficiary_stopped_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(stop_reason="died") | Q(death_date__isnull=False),
                name="beneficiary_death_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["area_path"], name="benef_area_path_idx", opclasses=["varchar_pattern_ops"]),
            # in the C collation (migration 0004): serves LIKE 'key%' and ORDER BY name_key, id
            models.Index(fields=["name_key", "id"], name="benef_name_key_id_idx"),
            # in the C collation (migration 0006): the list's and the exports' name order
            models.Index(fields=["sort_key", "id"], name="benef_sort_key_id_idx"),
            models.Index(fields=["phone"], name="benef_phone_idx"),
            models.Index(fields=["village", "name_key"], name="benef_village_idx"),
            models.Index(fields=["commune", "status"], name="benef_commune_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.birth_date.year})"

    @property
    def audit_area(self):
        return self.village or self.commune

    @property
    def masked_cccd(self) -> str:
        return mask_number(self.cccd)

    @property
    def phone_display(self) -> str:
        return phone_display(self.phone)


class BeneficiaryCategory(models.Model):
    """A category the beneficiary is entitled under, from a month. Several may apply; the
    entitlement function pays only the highest."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="categories")
    category = models.ForeignKey("policy.Category", verbose_name=_("category"), on_delete=models.PROTECT)
    condition = models.CharField(_("condition"), max_length=60, blank=True, help_text=_("e.g. severe:adult"))
    units = models.PositiveSmallIntegerField(_("units"), default=1, help_text=_("e.g. children being raised"))
    fixed_key = models.CharField(_("fixed-amount key"), max_length=60, blank=True)
    from_month = models.DateField(_("from month"))
    to_month = models.DateField(_("to month"), null=True, blank=True)

    class Meta:
        verbose_name = _("beneficiary category")
        verbose_name_plural = _("beneficiary categories")
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary", "category", "from_month"], name="benef_category_unique_from"
            ),
            models.CheckConstraint(condition=Q(units__gte=1), name="benef_category_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} {self.condition}".strip()

    @property
    def condition_label(self) -> str:
        """The condition as a person reads it ('khuyết tật nặng, từ 16 đến dưới 60 tuổi')."""
        from ansinh.policy.labels import condition_label

        return condition_label(self.condition)

    @property
    def fixed_key_label(self) -> str:
        from ansinh.policy.labels import fixed_key_label

        return fixed_key_label(self.fixed_key)


class DecisionKind(models.TextChoices):
    START = "start", _("Start of allowance")
    ADJUST = "adjust", _("Adjustment (category or level)")
    SUSPEND = "suspend", _("Suspension")
    RESUME = "resume", _("Resumption")
    STOP = "stop", _("Stop")
    MOVE = "move", _("Move to another commune")


class Decision(models.Model):
    """A signed decision (quyết định) and the month it takes effect."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(_("kind"), max_length=10, choices=DecisionKind.choices)
    number = models.CharField(_("decision number"), max_length=60)
    signed_on = models.DateField(_("signed on"))
    effective_month = models.DateField(_("effective month"))
    reason = models.CharField(_("reason"), max_length=12, choices=StopReason.choices, blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    # the event a stop or an adjustment follows (death, move, loss of eligibility, change of
    # condition): it takes effect from the month after this date (policy-facts §1.6)
    event_date = models.DateField(_("date of the event"), null=True, blank=True)
    # why a start takes effect before the month the decision was signed (arrears are paid for it)
    backdating_reason = models.CharField(_("reason for an earlier start"), max_length=255, blank=True)
    # a move is two linked decisions: the old commune's stop ("move") and the new commune's start
    follows = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="followed_by", verbose_name=_("follows")
    )
    note = models.TextField(_("note"), blank=True)
    from_commune = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_commune = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["beneficiary_id", "effective_month", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(effective_month__day=1), name="decision_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_kind_display()})"

    @property
    def audit_area(self):
        return self.beneficiary.audit_area


class StatusChange(models.Model):
    """The dated status history of a beneficiary."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=12, choices=StopReason.choices, blank=True)
    effective_month = models.DateField(_("effective month"))
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["beneficiary_id", "effective_month", "id"]
        indexes = [
            # the month's starts (registry.queries.started_in, the dashboard's figures), read from
            # the index alone
            models.Index(
                fields=["effective_month", "to_status", "from_status", "beneficiary"], name="statuschange_month_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status} ({self.effective_month:%m/%Y})"


class Representative(models.Model):
    """A guardian or authorised person. One person may represent several beneficiaries."""

    full_name = models.CharField(_("full name"), max_length=150)
    name_key = models.CharField(max_length=150, editable=False, db_index=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True)
    cccd = models.CharField(_("citizen ID (CCCD)"), max_length=12, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        constraints = [
            models.UniqueConstraint(fields=["cccd"], condition=~Q(cccd=""), name="representative_unique_cccd"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def audit_area(self):
        return self.commune

    @property
    def masked_cccd(self) -> str:
        return mask_number(self.cccd)


class RepresentationKind(models.TextChoices):
    GUARDIAN = "guardian", _("Guardian")
    AUTHORISED = "authorised", _("Authorised person")


class Representation(models.Model):
    """A representative acting for a beneficiary; at most one current payee per beneficiary."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="representations")
    representative = models.ForeignKey(Representative, on_delete=models.PROTECT, related_name="representations")
    kind = models.CharField(_("kind"), max_length=10, choices=RepresentationKind.choices)
    relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    document_number = models.CharField(_("authorisation document no."), max_length=60, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_payee = models.BooleanField(_("current payee"), default=False)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("representation")
        verbose_name_plural = _("representations")
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary"],
                condition=Q(is_payee=True, ended_at__isnull=True),
                name="one_current_payee",
            ),
            models.UniqueConstraint(
                fields=["beneficiary", "representative"],
                condition=Q(ended_at__isnull=True),
                name="representation_unique_active",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="representation_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.representative} → {self.beneficiary} ({self.get_kind_display()})"

    @property
    def audit_area(self):
        return self.beneficiary.audit_area


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Checking")
    VALIDATED = "validated", _("Checked, waiting for confirmation")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportJob(models.Model):
    """An uploaded beneficiary file for one commune: checked first, written only on confirmation."""

    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    progress = models.PositiveSmallIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    to_create = models.PositiveIntegerField(default=0)
    to_update = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    # The status changes a job may make (import_jobs.change_status is the only writer). A
    # finished job (done, failed, cancelled) stays as it is.
    STATUS_TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        ImportStatus.UPLOADED: frozenset({ImportStatus.VALIDATING, ImportStatus.FAILED, ImportStatus.CANCELLED}),
        ImportStatus.VALIDATING: frozenset({ImportStatus.VALIDATED, ImportStatus.FAILED, ImportStatus.CANCELLED}),
        ImportStatus.VALIDATED: frozenset({ImportStatus.IMPORTING, ImportStatus.CANCELLED}),
        ImportStatus.IMPORTING: frozenset({ImportStatus.DONE, ImportStatus.FAILED}),
        ImportStatus.DONE: frozenset(),
        ImportStatus.FAILED: frozenset(),
        ImportStatus.CANCELLED: frozenset(),
    }

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    def can_become(self, status: str) -> bool:
        return status in self.STATUS_TRANSITIONS[self.status]

    @property
    def audit_area(self):
        return self.commune

    @property
    def valid_rows(self) -> int:
        return self.to_create + self.to_update + self.unchanged
