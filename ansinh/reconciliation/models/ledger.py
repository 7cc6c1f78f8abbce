"""The ledger of a payment cycle (issue 13 part 1): append-only entries of the money that moved
for the cycle (the advance received from the treasury, transfers credited, transfers failed,
cash paid, cash returned at closing, recoveries from payees, the provider's fee), and the
closing of the ledger when the provider's settlement is accepted.

An entry is never changed nor deleted (the model refuses; on PostgreSQL a trigger raises, see
`ansinh.reconciliation.ledger.SQL`). `source` is unique: the same event posted twice is one
entry. An event that happens after the cycle's ledger was closed is posted to the next cycle of
the same approving unit and programme, with `adjusts` pointing at the cycle the money belongs
to. See docs/ledger.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ansinh.core.errors import InvalidTransition


class LedgerKind(models.TextChoices):
    ADVANCE = "advance", _("Advance received from the treasury")
    CREDITED = "credited", _("Transfer credited")
    TRANSFER_FAILED = "failed", _("Transfer failed, money back in the funded account")
    CASH_PAID = "cash_paid", _("Cash paid")
    CASH_RETURNED = "cash_returned", _("Unpaid cash returned")
    RECOVERY = "recovery", _("Overpayment recovered")
    FEE = "fee", _("Service fee")


class LedgerEntry(models.Model):
    # A million entries a month are written by one statement (`ledger.new_payouts_sql`), so the
    # entries carry only the indexes something reads (reconciliation 0006): the cycle's and the
    # adjusted cycle's are the leading columns of (cycle, kind) and (adjusts, kind); the source
    # is unique by a constraint (no query looks for part of one); nothing looks entries up by
    # area (the ledger is read per cycle). The line's key is not checked again by the database:
    # every entry with a line is posted from a record that holds the same line under a checked
    # key (the payout, the transfer, the cash entry), in the same transaction.
    # The cycles' keys are checked once per statement by a trigger on PostgreSQL
    # (`ledger.SQL`, recon_money_keys), not by a constraint: its check at commit looked up and
    # locked the same cycle for each of a month's million entries. Django applies PROTECT.
    cycle = models.ForeignKey(
        "payroll.PaymentCycle",
        verbose_name=_("ledger of cycle"),
        on_delete=models.PROTECT,
        related_name="ledger",
        db_index=False,
        db_constraint=False,
    )
    # set for an event posted after the ledger of the cycle it concerns was closed: that cycle
    adjusts = models.ForeignKey(
        "payroll.PaymentCycle",
        verbose_name=_("adjustment of cycle"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_adjustments",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("entry"), max_length=14, choices=LedgerKind.choices)
    amount = models.BigIntegerField(_("amount (đồng)"))
    line = models.ForeignKey(
        "payroll.PayrollLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        db_constraint=False,
    )
    source = models.CharField(_("source"), max_length=80)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    # posted by a person only for the entries an officer records (an advance, a fee, a write-off):
    # a partial index (below) of those, not an entry for each of the month's million postings
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    area_path = models.CharField(max_length=255, editable=False)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["cycle_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source"], name="recon_ledger_source_unique"),
            models.CheckConstraint(condition=Q(kind__in=LedgerKind.values), name="recon_ledger_kind"),
            models.CheckConstraint(
                condition=~Q(kind__in=["advance", "fee", "recovery", "failed"]) | Q(amount__gt=0),
                name="recon_ledger_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["cycle", "kind"], name="recon_ledger_cycle_kind"),
            models.Index(fields=["adjusts", "kind"], name="recon_ledger_adjusts_kind"),
            models.Index(
                fields=["recorded_by"], condition=Q(recorded_by__isnull=False), name="recon_ledger_recorded_by"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise InvalidTransition(_("A ledger entry cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvalidTransition(_("A ledger entry cannot be deleted."))


class LedgerClosing(models.Model):
    """The closing of a cycle's ledger (at the acceptance of the provider's settlement), with the
    balance at that moment. Later events go to the next cycle's ledger as adjustments."""

    cycle = models.OneToOneField("payroll.PaymentCycle", on_delete=models.PROTECT, related_name="ledger_closing")
    closed_at = models.DateTimeField(_("closed at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    balance = models.JSONField(default=dict)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("ledger closing")
        verbose_name_plural = _("ledger closings")

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.closed_at:%d/%m/%Y}"

    def delete(self, *args, **kwargs):
        raise InvalidTransition(_("A closed ledger cannot be reopened."))


__all__: list[str] = ["LedgerKind", "LedgerClosing", "LedgerEntry"]
