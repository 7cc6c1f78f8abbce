"""Bank statements of the provider's funded account (issue 13 part 2), imported "against the
money": every statement file (ISO 20022 camt.053, or the provider's XLSX statement) is a job
(`StatementImport`) with a content checksum unique among applied imports (the same file twice
books nothing) and one row per statement entry (`StatementEntry`) carrying what the entry was
matched to and the outcome. See docs/reconciliation.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = [
    "EntryDirection",
    "EntryKind",
    "EntryOutcome",
    "StatementEntry",
    "StatementFormat",
    "StatementImport",
    "StatementState",
]


class StatementFormat(models.TextChoices):
    CAMT053 = "camt.053", _("ISO 20022 camt.053 bank statement")
    XLSX = "xlsx", _("Provider's statement (XLSX)")


class StatementState(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("statement import", "Applied")
    REFUSED = "refused", pgettext_lazy("statement import", "Refused")


class StatementImport(models.Model):
    """One imported statement file of a provider's funded account."""

    source = models.CharField(_("format"), max_length=10, choices=StatementFormat.choices)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    checksum = models.CharField(_("SHA-256 of the content"), max_length=64, db_index=True)
    provider = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("provider"), on_delete=models.PROTECT, related_name="+"
    )
    contract = models.ForeignKey(
        "payroll.ProviderContract", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account_number = models.CharField(_("funded account"), max_length=34, blank=True)
    message_id = models.CharField(_("message id"), max_length=35, blank=True)
    statement_id = models.CharField(_("statement id"), max_length=35, blank=True)
    from_date = models.DateField(_("from"), null=True, blank=True)
    to_date = models.DateField(_("until"), null=True, blank=True)
    opening_balance = models.BigIntegerField(_("opening balance (đồng)"), null=True, blank=True)
    closing_balance = models.BigIntegerField(_("closing balance (đồng)"), null=True, blank=True)
    entries_count = models.PositiveIntegerField(_("entries"), default=0)
    credits_total = models.BigIntegerField(_("credits (đồng)"), default=0)
    debits_total = models.BigIntegerField(_("debits (đồng)"), default=0)
    state = models.CharField(_("state"), max_length=10, choices=StatementState.choices)
    refused_reason = models.TextField(_("why it was refused"), blank=True)
    summary = models.JSONField(default=dict, blank=True)
    area_path = models.CharField(max_length=255, editable=False, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=StatementState.values), name="recon_statement_state"),
            models.UniqueConstraint(
                fields=["checksum"], condition=Q(state="applied"), name="recon_statement_applied_once"
            ),
        ]

    def __str__(self) -> str:
        return self.file_name or self.checksum[:12]


class EntryDirection(models.TextChoices):
    CREDIT = "credit", _("Money in")
    DEBIT = "debit", _("Money out")


class EntryKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer to a beneficiary")
    RETURN = "return", _("Transfer returned")
    ADVANCE = "advance", _("Advance from the treasury")
    OTHER = "other", _("Other movement")


class EntryOutcome(models.TextChoices):
    MATCHED = "matched", pgettext_lazy("statement entry", "Matched")
    AMOUNT_DIFFERS = "amount_differs", pgettext_lazy("statement entry", "Amount differs")
    UNKNOWN = "unknown", pgettext_lazy("statement entry", "Unknown reference")
    DUPLICATE = "duplicate", pgettext_lazy("statement entry", "Booked twice")


class StatementEntry(models.Model):
    """One entry (camt.053 Ntry, or one row of the XLSX statement) and what it was matched to.

    A province month writes a million rows at once: the table keeps only the indexes it is read
    by (a job's rows by row number, an instruction's rows by kind); the job's and the
    instruction's own single-column indexes would repeat those two (their leading column).

    `job` and `instruction` have no foreign-key constraint in the database (db_constraint=False):
    the rows are written only by `matching.stage_and_match`'s INSERT … SELECT, in the transaction that
    creates the job, with the instruction found by a join to the transfers in the same statement,
    so both exist by construction; PostgreSQL's deferred check of the constraints, a lookup and a
    row lock of the transfer per entry at commit, cost 9 s for a province month. Neither is ever
    deleted under its entries: Django still applies on_delete (CASCADE for a job, PROTECT for a
    transfer, which is never deleted anyway)."""

    job = models.ForeignKey(
        StatementImport, on_delete=models.CASCADE, related_name="entries", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField()
    booking_date = models.DateField(_("booked on"), null=True, blank=True)
    direction = models.CharField(_("direction"), max_length=6, choices=EntryDirection.choices)
    amount = models.BigIntegerField(_("amount (đồng)"))
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, blank=True)
    original_end_to_end_id = models.CharField(_("original end-to-end id"), max_length=35, blank=True)
    reference = models.CharField(_("bank reference"), max_length=35, blank=True)
    remittance = models.CharField(_("details"), max_length=140, blank=True)
    return_reason = models.CharField(_("return reason"), max_length=8, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=EntryOutcome.choices)
    instruction = models.ForeignKey(
        "disbursement.Instruction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    advance = models.ForeignKey(
        "payroll.Advance", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    expected_amount = models.BigIntegerField(_("expected (đồng)"), null=True, blank=True)
    area_path = models.CharField(max_length=255, editable=False, blank=True)

    class Meta:
        verbose_name = _("statement entry")
        verbose_name_plural = _("statement entries")
        ordering = ["job_id", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="recon_entry_row_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="recon_entry_amount"),
        ]
        indexes = [
            models.Index(fields=["instruction", "kind"], name="recon_entry_instruction"),
            # the few entries the checks look for (returns, transfers booked twice or with another
            # amount, unknown references) among a million matched transfers
            models.Index(
                fields=["kind", "outcome"],
                condition=~Q(kind="transfer", outcome="matched"),
                name="recon_entry_exceptions",
            ),
            # the entries of an advance: a few a month (not the million others, all without one)
            models.Index(fields=["advance"], condition=Q(advance__isnull=False), name="recon_entry_advance"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.row_number}: {self.amount}"
