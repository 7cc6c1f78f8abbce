"""Identity verification against the national population database: runs per commune, one result
per person checked, and the synthetic population register the sandbox adapter answers from.

Kept in its own app rather than under `payments/` (architecture.md) so that it could be built
alongside the payments app; it depends on the registry only."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ansinh.core.masking import mask_number
from ansinh.registry.models import Gender


class Outcome(models.TextChoices):
    MATCH = "match", _("Matches")
    MISMATCH = "mismatch", _("Does not match")
    NOT_FOUND = "not_found", _("Not found")
    DECEASED = "deceased", _("Deceased")


class SyntheticResident(models.Model):
    """A person of the synthetic population register: made by the demo from its own beneficiaries
    and representatives, with deliberate discrepancies. No real person is in it."""

    cccd = models.CharField(max_length=12, unique=True)
    full_name = models.CharField(max_length=150)
    birth_date = models.DateField()
    gender = models.CharField(max_length=6, choices=Gender.choices)
    death_date = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return mask_number(self.cccd)


class VerificationRun(models.Model):
    """One verification of a commune's people. Runs are versioned: each run of a commune on a day
    gets the next `sequence`; the results of a run are never changed by a later one."""

    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    run_date = models.DateField(_("date"))
    sequence = models.PositiveSmallIntegerField(_("run of the day"), default=1)
    source = models.CharField(_("source"), max_length=100)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(_("checked"), default=0)
    matched = models.PositiveIntegerField(_("matches"), default=0)
    mismatched = models.PositiveIntegerField(_("mismatches"), default=0)
    not_found = models.PositiveIntegerField(_("not found"), default=0)
    deceased = models.PositiveIntegerField(_("deceased"), default=0)
    without_cccd = models.PositiveIntegerField(_("without CCCD (not checked)"), default=0)

    class Meta:
        ordering = ["-run_date", "-sequence", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["commune", "run_date", "sequence"], name="verification_run_version"),
        ]

    def __str__(self) -> str:
        return f"{self.commune_id} {self.run_date} #{self.sequence}"

    def summary(self) -> dict:
        return {
            "run": self.pk,
            "commune": self.commune.code if self.commune_id else "",
            "date": self.run_date.isoformat(),
            "sequence": self.sequence,
            "source": self.source,
            "checked": self.checked,
            "match": self.matched,
            "mismatch": self.mismatched,
            "not_found": self.not_found,
            "deceased": self.deceased,
            "without_cccd": self.without_cccd,
        }


class VerificationResult(models.Model):
    """The answer for one person (a beneficiary or a representative) in one run. A deceased
    beneficiary's result is a stop proposal (`stop_proposed`): an officer confirms it with a stop
    decision; nothing stops by itself."""

    run = models.ForeignKey(VerificationRun, on_delete=models.CASCADE, related_name="results")
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", null=True, blank=True, on_delete=models.PROTECT, related_name="verifications"
    )
    representative = models.ForeignKey(
        "registry.Representative", null=True, blank=True, on_delete=models.PROTECT, related_name="verifications"
    )
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    full_name = models.CharField(_("full name"), max_length=150)
    cccd = models.CharField(_("citizen ID (CCCD)"), max_length=12)
    outcome = models.CharField(_("result"), max_length=10, choices=Outcome.choices)
    mismatched_fields = models.JSONField(_("fields that differ"), default=list, blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    stop_proposed = models.BooleanField(_("stop proposed"), default=False)
    source = models.CharField(_("source"), max_length=100)
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["beneficiary", "stop_proposed"], name="verification_proposal_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(beneficiary__isnull=False) | models.Q(representative__isnull=False),
                name="verification_result_has_person",
            )
        ]

    def __str__(self) -> str:
        return f"{mask_number(self.cccd)} {self.outcome}"

    @property
    def masked_cccd(self) -> str:
        return mask_number(self.cccd)
