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
