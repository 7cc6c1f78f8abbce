"""Settlement models (issue 13 part 3).

- `ProviderSettlement`: the provider's statement for one cycle and one contract purpose (monthly
  allowances; funeral and emergency support has its own contract). Its figures are computed from
  the records (`ansinh.reconciliation.settlement.statement`), never typed: they are frozen here
  when the provider submits and checked again when the office accepts.
- `OfficeSettlement`: the office's settlement with the finance office for one cycle (one
  approving unit, programme and month), frozen when the office records that it was sent.

See docs/settlement.md."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ansinh.payroll.models import ContractPurpose

__all__ = ["OfficeSettlement", "ProviderSettlement", "SettlementState"]


class SettlementState(models.TextChoices):
    PREPARED = "prepared", pgettext_lazy("settlement", "Being prepared")
    SUBMITTED = "submitted", pgettext_lazy("settlement", "Submitted by the provider")
    RETURNED = "returned", pgettext_lazy("settlement", "Returned with comments")
    ACCEPTED = "accepted", pgettext_lazy("settlement", "Accepted by the office")


class ProviderSettlement(models.Model):
    cycle = models.ForeignKey("payroll.PaymentCycle", on_delete=models.PROTECT, related_name="provider_settlements")
    purpose = models.CharField(_("purpose"), max_length=20, choices=ContractPurpose.choices)
    contract = models.ForeignKey(
        "payroll.ProviderContract", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=SettlementState.choices, default=SettlementState.PREPARED
    )
    # the statement's totals when last prepared / submitted (int đồng and counts)
    totals = models.JSONField(default=dict, blank=True)
    beneficiaries_served = models.PositiveIntegerField(_("beneficiaries served"), default=0)
    amount_paid = models.BigIntegerField(_("amount paid (đồng)"), default=0)
    amount_returned = models.BigIntegerField(_("amount returned (đồng)"), default=0)
    fee = models.BigIntegerField(_("fee due (đồng)"), default=0)
    comment = models.TextField(_("office's comments"), blank=True)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    prepared_at = models.DateTimeField(null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("provider settlement")
        verbose_name_plural = _("provider settlements")
        ordering = ["-cycle__month", "cycle_id", "purpose"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "purpose"], name="recon_settlement_unique"),
            models.CheckConstraint(condition=Q(state__in=SettlementState.values), name="recon_settlement_state"),
            models.CheckConstraint(condition=Q(fee__gte=0, amount_returned__gte=0), name="recon_settlement_amounts"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.purpose}: {self.state}"

    @property
    def audit_area(self):
        return self.cycle.area


class OfficeSettlement(models.Model):
    cycle = models.OneToOneField("payroll.PaymentCycle", on_delete=models.PROTECT, related_name="office_settlement")
    figures = models.JSONField(default=dict, blank=True)
    reference = models.CharField(_("reference of the file sent"), max_length=60, blank=True)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    sent_at = models.DateTimeField(_("sent to the finance office"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("settlement with the finance office")
        verbose_name_plural = _("settlements with the finance office")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.sent_at:%d/%m/%Y}"

    @property
    def audit_area(self):
        return self.cycle.area
