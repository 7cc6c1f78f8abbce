"""Reconciliation exceptions (issue 13 part 2): what the checks of a cycle found when they put
the payroll, the provider's results, the cash records and the bank statement side by side.
One row per kind and subject (`key`, unique with `kind`): re-running the checks never makes a
second one. A transfer rejected by the bank and an account holder who could not withdraw are
already `disbursement.TransferException`s: the reconciliation exception of those kinds links to
it and is resolved through the same services (see docs/reconciliation.md, "One worklist")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = ["ReconException", "ReconKind", "ReconResolution", "ReconState"]


class ReconKind(models.TextChoices):
    HOLDER_NOT_LISTED = "holder_not_listed", _("Account holder missing from the account list")
    NO_ACCOUNT_LISTED = "no_account_listed", _("On the account list without an account")
    TRANSFER_FAILED = "transfer_failed", _("Transfer failed")
    CANNOT_WITHDRAW = "cannot_withdraw", _("Cannot withdraw")
    AFTER_DEATH = "after_death", _("Paid after death")
    SHARED_ACCOUNT = "shared_account", _("One account receives for people it does not represent")
    REPRESENTATIVE = "representative", _("Representative not on the list")
    DUPLICATE = "duplicate", _("Duplicate payment")
    AMOUNT_DIFFERS = "amount_differs", _("Provider's amount differs from the payroll")
    NOT_ON_STATEMENT = "not_on_statement", _("Credited transfer missing from the bank statement")
    UNKNOWN_ENTRY = "unknown_entry", _("Bank statement entry with an unknown reference")


class ReconState(models.TextChoices):
    OPEN = "open", pgettext_lazy("reconciliation exception", "To resolve")
    IN_HAND = "in_hand", pgettext_lazy("reconciliation exception", "Awaiting approval")
    RESOLVED = "resolved", pgettext_lazy("reconciliation exception", "Resolved")


class ReconResolution(models.TextChoices):
    RESENT = "resent", _("Resent to a corrected account")
    TO_CASH = "to_cash", _("Paid in cash this month")
    RECOVERY = "recovery", _("Overpayment to recover")
    WRITTEN_OFF = "written_off", _("Written off")
    NOTED = "noted", _("Checked, nothing to do")
    GONE = "gone", _("No longer found by the checks")


class ReconException(models.Model):
    kind = models.CharField(_("exception"), max_length=20, choices=ReconKind.choices)
    # the subject: "line:<id>", "instruction:<id>", "entry:<id>", "account:<hash>:<beneficiary>"…
    key = models.CharField(max_length=120)
    state = models.CharField(_("state"), max_length=10, choices=ReconState.choices, default=ReconState.OPEN)
    cycle = models.ForeignKey("payroll.PaymentCycle", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey("payroll.PayrollLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    beneficiary = models.ForeignKey(
        "registry.Beneficiary", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instruction = models.ForeignKey(
        "disbursement.Instruction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transfer_exception = models.ForeignKey(
        "disbursement.TransferException", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey(
        "reconciliation.StatementEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.BigIntegerField(_("amount (đồng)"), null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    commune = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    # the owner: a person when assigned, else the role that handles the kind in the area
    owner_role = models.CharField(_("responsible role"), max_length=20)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_date = models.DateField(_("due date"))
    created_at = models.DateTimeField(auto_now_add=True)
    fix = models.ForeignKey("payroll.LineFix", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    receivable = models.ForeignKey(
        "payroll.Receivable", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=12, choices=ReconResolution.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("reconciliation exception")
        verbose_name_plural = _("reconciliation exceptions")
        ordering = ["state", "due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="recon_exception_unique"),
            models.CheckConstraint(condition=Q(kind__in=ReconKind.values), name="recon_exception_kind"),
            models.CheckConstraint(condition=Q(state__in=ReconState.values), name="recon_exception_state"),
        ]
        indexes = [models.Index(fields=["cycle", "kind", "state"], name="recon_exception_cycle")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.key})"

    @property
    def audit_area(self):
        return self.commune

    @property
    def owner_role_label(self) -> str:
        from ansinh.accounts.roles import Role

        try:
            return str(Role(self.owner_role).label)
        except ValueError:
            return self.owner_role
