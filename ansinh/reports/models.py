"""Models of ansinh.reports (issue 13): export jobs and aggregate tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ExportStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("export", "Waiting for the background worker")
    RUNNING = "running", pgettext_lazy("export", "Being written")
    DONE = "done", pgettext_lazy("export", "Ready to download")
    FAILED = "failed", pgettext_lazy("export", "Failed")


class ExportJob(models.Model):
    """A long export (a list of people behind a dashboard figure, as XLSX) written in the
    background (ansinh.reports.exports): the page polls its progress, then the one who asked
    downloads the file. The file holds personal data: it is kept outside the media directory
    (`exports.export_dir()`), and only the user who asked may download it."""

    kind = models.CharField(_("list"), max_length=30)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    month = models.DateField(_("month"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)  # inside exports.export_dir()
    download_name = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%m/%Y} ({self.get_status_display()})"

    @property
    def audit_area(self):
        return self.area

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)


# --- aggregate tables (facts) maintained for the statutory reports and the dashboard ----------
#
# Derived data, computed again from the payouts, transfers, beneficiaries and accounts by
# `ansinh.reports.facts.refresh` for the (commune, month) pairs that database triggers mark as
# stale on every write to those tables (whatever the path: service, bulk SQL, admin). Never
# edited by hand; the readers refresh what is stale before reading. See docs/statutory-reports.md
# ("Aggregate tables").

WHOLE_COMMUNE = "0001-01-01"  # StaleFact.month of a mark that covers every month of a commune


class StaleFact(models.Model):
    """A (commune, month) whose facts must be computed again (month 0001-01-01: the commune's
    beneficiary groups and every month). `version` is raised by every new mark, so a refresh
    that read version 3 leaves a mark raised to 4 meanwhile for the next refresh."""

    commune_id = models.BigIntegerField()
    month = models.DateField()
    version = models.BigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commune_id", "month"], name="reports_stale_commune_month")]

    def __str__(self) -> str:
        return f"{self.commune_id} {self.month}"


class CommuneMonthFact(models.Model):
    """A commune's money of a month (allowance lines: regular, arrears, recovery; not funeral
    support): distinct people and đồng paid through an account (payout's commune) and the last
    such payment; in cash; transfers in flight (sent or accepted, the line not yet paid through an
    account); and the account holders registered in the commune, receiving in the month, paid
    through an account in it (the dashboard's "paid cashless"); the amount of the allowance lines
    of the month's payrolls in the commune."""

    commune = models.ForeignKey(
        "areas.Area", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    month = models.DateField()
    account_people = models.IntegerField(default=0)
    account_amount = models.BigIntegerField(default=0)
    account_last_paid_at = models.DateTimeField(null=True)
    cash_people = models.IntegerField(default=0)
    cash_amount = models.BigIntegerField(default=0)
    flight_amount = models.BigIntegerField(default=0)
    holders_paid = models.IntegerField(default=0)
    payroll_amount = models.BigIntegerField(default=0)  # the allowance lines of the month's payrolls

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commune", "month"], name="reports_cmf_commune_month")]
        indexes = [models.Index(fields=["month"], name="reports_cmf_month")]

    def __str__(self) -> str:
        return f"{self.commune_id} {self.month:%m/%Y}"


class PersonYearFact(models.Model):
    """The months of a year (bit 0 = January) in which a beneficiary was paid through an account
    by a commune's cycles (`paid_mask`), and in which a transfer to them was in flight
    (`flight_mask`): the distinct people of a period are counted from these, one narrow row per
    person and year."""

    beneficiary = models.ForeignKey(
        "registry.Beneficiary", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    year = models.SmallIntegerField()
    paid_mask = models.IntegerField(default=0)
    flight_mask = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["beneficiary", "commune", "year"], name="reports_pyf_person_commune_year")
        ]
        indexes = [models.Index(fields=["commune", "year"], name="reports_pyf_commune_year")]

    def __str__(self) -> str:
        return f"{self.beneficiary_id} {self.commune_id} {self.year}"


class CommuneGroupFact(models.Model):
    """The beneficiaries registered in a commune grouped by start month, last month (9999-12-01:
    none) and month of their first active account (9999-12-01: none): the dashboard counts the
    receiving and the account holders of any month from these."""

    commune = models.ForeignKey(
        "areas.Area", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    start_month = models.DateField()
    end_month = models.DateField()
    first_account_month = models.DateField()
    people = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["commune"], name="reports_cgf_commune")]

    def __str__(self) -> str:
        return f"{self.commune_id} {self.start_month} {self.end_month} {self.first_account_month}"
