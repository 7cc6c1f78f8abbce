"""The transfer leg of the monthly cycle (issue 11): what the system asks the payment provider to
credit, what the provider answered, and what the office still has to resolve.

- `ProviderBatch`: for an approved and funded cycle and its provider, the transfer instructions
  of one file. The month's first batch holds one instruction per account-channel line; a later
  batch (`sequence` 2, 3…) holds the resends after a final rejection. States in one map
  (`BATCH_TRANSITIONS`).
- `Instruction`: one transfer of one payroll line, with a stable unique end-to-end id. A database
  constraint allows at most one instruction per line that is not finally rejected or cancelled.
- `Payout`: the ONE settled payment of a payroll line, whatever the channel (a credited transfer
  here; a cash receipt in the cash issue): a unique line, so a late "credited" after a switch to
  cash becomes an exception, never a second payment.
- `ExportedFile`: each file written for a batch with its SHA-256 (re-exports are byte-identical).
- `StatusImport` / `StatusImportRow`: every status file (pain.002, the provider's XLSX, the
  sandbox bank's answer) is a job with one row per status and a content checksum under a unique
  constraint: importing the same file twice changes nothing.
- `TransferException`: what the office must resolve (a rejected transfer, a held line, a late
  credit after a switch to cash, an amount that differs, a batch without an answer).

See docs/disbursement.md."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ansinh.core.errors import InvalidTransition


class BatchState(models.TextChoices):
    CREATED = "created", pgettext_lazy("provider batch", "Created")
    EXPORTED = "exported", pgettext_lazy("provider batch", "Exported / sent")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("provider batch", "Acknowledged by the bank")
    PARTLY_REPORTED = "partly_reported", pgettext_lazy("provider batch", "Partly reported")
    REPORTED = "reported", pgettext_lazy("provider batch", "Fully reported")
    CLOSED = "closed", pgettext_lazy("provider batch", "Closed")


B = BatchState

# The one map of a batch's states. Statuses arrive in any order (an acknowledgement may be
# skipped, a final report may come first), so a later state is reachable from every earlier one.
BATCH_TRANSITIONS: dict[str, set[str]] = {
    B.CREATED: {B.EXPORTED},
    B.EXPORTED: {B.ACKNOWLEDGED, B.PARTLY_REPORTED, B.REPORTED},
    B.ACKNOWLEDGED: {B.PARTLY_REPORTED, B.REPORTED},
    B.PARTLY_REPORTED: {B.REPORTED},
    B.REPORTED: {B.CLOSED},
    B.CLOSED: set(),
}


class ProviderBatch(models.Model):
    cycle = models.ForeignKey("payroll.PaymentCycle", on_delete=models.PROTECT, related_name="provider_batches")
    provider = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("provider"), on_delete=models.PROTECT, related_name="+"
    )
    contract = models.ForeignKey("payroll.ProviderContract", on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveSmallIntegerField(_("batch number in the month"), default=1)
    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    state = models.CharField(_("state"), max_length=16, choices=BatchState.choices, default=BatchState.CREATED)
    # the approval the batch was made from: a file is written only while it still matches
    approval_hash = models.CharField(max_length=64)
    instructions_count = models.PositiveIntegerField(_("transfers"), default=0)
    total_amount = models.BigIntegerField(_("total (đồng)"), default=0)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(_("exported"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("sent to the bank"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_query_at = models.DateTimeField(_("last status query"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider batch")
        verbose_name_plural = _("provider batches")
        ordering = ["-cycle__month", "cycle_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "provider", "sequence"], name="disb_batch_unique"),
            models.CheckConstraint(condition=Q(state__in=BatchState.values), name="disb_batch_state_valid"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="disb_batch_total"),
        ]

    def __str__(self) -> str:
        return self.message_id

    @property
    def audit_area(self):
        return self.cycle.area

    def set_state(self, state: str) -> None:
        if state not in BATCH_TRANSITIONS.get(self.state, set()):
            raise InvalidTransition(
                _("A batch cannot go from “%(source)s” to “%(target)s”.")
                % {"source": BatchState(self.state).label, "target": BatchState(state).label}
            )
        self.state = state


class InstructionState(models.TextChoices):
    CREATED = "created", pgettext_lazy("transfer", "Waiting to be sent")
    HELD = "held", pgettext_lazy("transfer", "Held (stop recorded after approval)")
    SENT = "sent", pgettext_lazy("transfer", "Sent to the bank")
    ACCEPTED = "accepted", pgettext_lazy("transfer", "Accepted, being processed")
    CREDITED = "credited", pgettext_lazy("transfer", "Credited")
    REJECTED = "rejected", pgettext_lazy("transfer", "Rejected")
    CANCELLED = "cancelled", pgettext_lazy("transfer", "Cancelled")


# Final: the instruction will not move again. A line may get a new instruction only when all of
# its instructions are in DEAD states (the partial unique constraint below).
FINAL_STATES = (InstructionState.CREDITED, InstructionState.REJECTED, InstructionState.CANCELLED)
DEAD_STATES = (InstructionState.REJECTED, InstructionState.CANCELLED)
# What a status may move an instruction to, from which states (statuses of a later import for
# a final instruction change nothing; a "credited" for a rejected one is a conflict).
OPEN_STATES = (InstructionState.SENT, InstructionState.ACCEPTED)


class Instruction(models.Model):
    """One transfer: the net of one beneficiary's lines of the month paid into the same account
    (`line` is the first of them: the regular allowance, else the arrears; funeral support is its
    own instruction to the organiser's account)."""

    # a batch's transfers are found by the index of (batch, state); unique end-to-end ids by the
    # constraint below, with no second index for LIKE (no query looks for a part of one): each
    # transfer is written three times (created, sent, its status), and every index of the table
    # is written each time (the state is in some of them, so no update is HOT)
    # The batch and the commune carry no database constraint (disbursement 0012): the batch is
    # opened in the transaction that writes its transfers (`build_batches`, `settle_hold`, under
    # the cycle's lock) and the commune is a copy of the line's, whose own key the database checks;
    # neither batches nor areas are ever deleted (Django applies PROTECT). Checked at commit, each
    # was a look-up and a row lock per transfer (0.6 s of a 100,000-transfer build). The line and
    # the account, which say who is paid, are checked per statement (below).
    batch = models.ForeignKey(
        ProviderBatch, on_delete=models.PROTECT, related_name="instructions", db_index=False, db_constraint=False
    )
    # The line and the account (who is paid, and where) are checked once per statement by a
    # trigger on PostgreSQL (`reconciliation.ledger.SQL`, recon_money_keys: a probe per transfer
    # written) instead of constraints checked at commit (a look-up and a row lock of each line and
    # account: 1 s of a 100,000-transfer build), and cannot change once written
    # (recon_transfer_keys_fixed); Django applies PROTECT.
    line = models.ForeignKey(
        "payroll.PayrollLine", on_delete=models.PROTECT, related_name="instructions", db_constraint=False
    )
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35)
    amount = models.BigIntegerField(_("amount (đồng)"))
    creditor_name = models.CharField(_("account holder"), max_length=140)
    account = models.ForeignKey(
        "payments.ReceivingAccount", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    institution_code = models.CharField(max_length=20)
    institution_bin = models.CharField(max_length=6)
    account_last4 = models.CharField(max_length=4)
    remittance = models.CharField(max_length=140)
    state = models.CharField(
        _("state"), max_length=10, choices=InstructionState.choices, default=InstructionState.CREATED
    )
    bank_status = models.CharField(_("bank status code"), max_length=4, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=8, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)
    # the resends of a transfer are found by a partial index (below): almost every transfer is
    # a first attempt, and an index entry for each of them would be written three times for nothing
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resends", db_index=False
    )
    # transfers are read by commune only in flight (the partial index below leads with it); areas
    # are never deleted, so no index serves the key's check alone
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    area_path = models.CharField(max_length=255, editable=False)
    # in the batch's file: set when the file is first written (a held line never is); a re-export
    # writes exactly these, so that it is byte-identical
    in_file = models.BooleanField(default=False)
    notified = models.BooleanField(_("payee notified"), default=False)

    class Meta:
        verbose_name = _("transfer instruction")
        verbose_name_plural = _("transfer instructions")
        ordering = ["batch_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["end_to_end_id"], name="disb_instruction_e2e_unique"),
            models.UniqueConstraint(
                fields=["line"], condition=~Q(state__in=["rejected", "cancelled"]), name="disb_instruction_one_live"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="disb_instruction_positive"),
            models.CheckConstraint(condition=Q(state__in=InstructionState.values), name="disb_instruction_state"),
        ]
        indexes = [
            models.Index(fields=["batch", "state"], name="disb_instruction_batch_state"),
            # transfers in flight, counted by the reports' aggregate tables per commune, and by the
            # statutory reports under an area (`reports.tables`: the only reads of transfers by area
            # or by commune)
            models.Index(
                fields=["commune", "state"],
                condition=models.Q(state__in=["sent", "accepted"]),
                name="disb_instruction_in_flight",
            ),
            models.Index(
                fields=["area_path"],
                condition=models.Q(state__in=["sent", "accepted"]),
                name="disb_instruction_area_flight",
            ),
            models.Index(
                fields=["resend_of"], condition=models.Q(resend_of__isnull=False), name="disb_instruction_resends"
            ),
            # credited transfers by the time they were credited: a bank statement's days
            # (reconciliation's transfers missing from the statement)
            models.Index(fields=["status_at"], condition=models.Q(state="credited"), name="disb_instruction_credited"),
        ]

    def __str__(self) -> str:
        return self.end_to_end_id

    @property
    def audit_area(self):
        return self.commune

    @property
    def masked_account(self) -> str:
        return f"{self.institution_code} •••• {self.account_last4}"


class PayoutChannel(models.TextChoices):
    ACCOUNT = "account", _("Transfer to an account")
    CASH = "cash", _("Cash")


class Payout(models.Model):
    """The one settled payment of a payroll line, whatever the channel (unique line). `amount` is
    the line's (negative for a recovery deducted from the same transfer)."""

    # The line's key is checked for each payout written, once per statement, by a trigger on
    # PostgreSQL (`reconciliation.ledger.SQL`, recon_money_keys: a probe per row, no row lock)
    # instead of a constraint checked at commit (a look-up and a lock of each line: 5 s of a
    # million payouts); approved lines cannot be deleted (payroll 0005), Django applies PROTECT.
    line = models.OneToOneField(
        "payroll.PayrollLine", on_delete=models.PROTECT, related_name="payout", db_constraint=False
    )
    channel = models.CharField(_("channel"), max_length=10, choices=PayoutChannel.choices)
    # a transfer pays the beneficiary's lines of the month together (the regular allowance, arrears,
    # a recovery deducted): one payout row per line, all pointing at the credited instruction.
    # No database constraint (disbursement 0009): the only writer of a payout with a transfer is
    # the status import's INSERT … SELECT, which takes it from a join to the transfer it has just
    # updated, in the same statement, and transfers are never deleted (Django applies PROTECT);
    # the check at commit locked each of a month's million transfers again (a WAL record each,
    # 5.7 s of the import). The line keeps its constraint.
    instruction = models.ForeignKey(
        Instruction, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts", db_constraint=False
    )
    amount = models.BigIntegerField(_("amount (đồng)"))
    paid_at = models.DateTimeField(_("paid at"))
    # one index (below) for the areas' prefixes (`LIKE 'path%'`) and equality on every collation,
    # instead of the two `db_index` makes on PostgreSQL (a plain one and a LIKE one)
    area_path = models.CharField(max_length=255, editable=False)
    # Copied from the line when the payout is written (`complete`), for the statutory reports and
    # the dashboard, which count payouts by month, commune and person over millions of rows: read
    # from the payouts alone, not joined to the (wide) payroll lines and their cycles. The person
    # and the commune are copies of the line's own keys, which the database checks on the line
    # (an approved line cannot change: payroll 0005's trigger); checked again on each payout they
    # cost two deferred look-ups and row locks per payout at commit (a million a month), so the
    # copies carry no constraint of their own (db_constraint=False); Django still applies PROTECT.
    month = models.DateField(_("month"), editable=False)  # the month the allowance is for (the cycle's)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False, db_constraint=False
    )
    line_type = models.CharField(max_length=10, editable=False)

    class Meta:
        verbose_name = _("payment made")
        verbose_name_plural = _("payments made")
        constraints = [
            models.CheckConstraint(
                condition=~Q(channel="account") | Q(instruction__isnull=False),
                name="disb_payout_transfer_has_instruction",
            ),
        ]
        indexes = [
            models.Index(fields=["month", "channel"], name="disb_payout_month_channel"),
            # the reports' aggregate tables are computed again per (commune, month)
            models.Index(fields=["commune", "month"], name="disb_payout_commune_month"),
            models.Index(fields=["area_path"], name="disb_payout_area", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.amount}"

    def save(self, *args, **kwargs):
        Payout.complete([self])
        super().save(*args, **kwargs)

    @classmethod
    def complete(cls, payouts: list[Payout]) -> list[Payout]:
        """Set the facts copied from each payout's line (month, beneficiary, commune, line type),
        one query per thousand lines; returns `payouts`."""
        from ansinh.payroll.models import PayrollLine

        missing = [p for p in payouts if p.month is None or p.beneficiary_id is None or not p.line_type]
        for i in range(0, len(missing), 1000):
            chunk = missing[i : i + 1000]
            facts: dict[int, tuple[Any, int, int, str]] = {
                pk: (month, beneficiary_id, commune_id, line_type)
                for pk, month, beneficiary_id, commune_id, line_type in PayrollLine.objects.filter(
                    pk__in=[p.line_id for p in chunk]
                ).values_list("pk", "cycle__month", "beneficiary_id", "commune_id", "line_type")
            }
            for p in chunk:
                p.month, p.beneficiary_id, p.commune_id, p.line_type = facts[p.line_id]
        return payouts


class FileFormat(models.TextChoices):
    PAIN001 = "pain.001", _("ISO 20022 pain.001 (transfer instructions)")
    XLSX = "xlsx", _("Provider's account list (XLSX)")


class ExportedFile(models.Model):
    batch = models.ForeignKey(ProviderBatch, on_delete=models.PROTECT, related_name="files")
    file_format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    instructions_count = models.PositiveIntegerField()
    total_amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    times = models.PositiveIntegerField(_("times written"), default=1)

    class Meta:
        verbose_name = _("exported file")
        verbose_name_plural = _("exported files")
        ordering = ["batch_id", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "file_format", "sha256"], name="disb_file_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.file_format} {self.sha256[:12]}"


class ImportSource(models.TextChoices):
    PAIN002 = "pain.002", _("ISO 20022 pain.002 status report")
    XLSX = "xlsx", _("Provider's results list (XLSX)")


class ImportState(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("status import", "Applied")
    REFUSED = "refused", pgettext_lazy("status import", "Refused")


class StatusImport(models.Model):
    source = models.CharField(_("format"), max_length=10, choices=ImportSource.choices)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    # unique among applied jobs: the same content is booked once; a refusal (another batch's report,
    # a file that differs from the approved one) never stops the right import of the same content
    checksum = models.CharField(_("SHA-256 of the content"), max_length=64, db_index=True)
    message_id = models.CharField(_("status message id"), max_length=35, blank=True)
    original_message_id = models.CharField(_("original message id"), max_length=35, blank=True)
    batch = models.ForeignKey(
        ProviderBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="status_imports"
    )
    group_status = models.CharField(max_length=4, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices)
    refused_reason = models.TextField(_("why it was refused"), blank=True)
    summary = models.JSONField(default=dict, blank=True)
    area_path = models.CharField(max_length=255, editable=False, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("status file")
        verbose_name_plural = _("status files")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=ImportState.values), name="disb_import_state"),
            models.UniqueConstraint(fields=["checksum"], condition=Q(state="applied"), name="disb_import_applied_once"),
        ]

    def __str__(self) -> str:
        return self.file_name or self.checksum[:12]


class RowOutcome(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("status row", "Applied")
    UNCHANGED = "unchanged", pgettext_lazy("status row", "Already known")
    UNKNOWN = "unknown", pgettext_lazy("status row", "Unknown end-to-end id")
    MISMATCH = "mismatch", pgettext_lazy("status row", "Amount differs: not booked")
    CONFLICT = "conflict", pgettext_lazy("status row", "Contradicts an earlier status")
    LATE_CREDIT = "late_credit", pgettext_lazy("status row", "Credited after a switch to cash")


class StatusImportRow(models.Model):
    """One status of an imported pain.002, as the bank said it, linked to the transfer it names.

    `job` and `instruction` have no foreign-key constraint in the database (db_constraint=False):
    on PostgreSQL the rows are written only by `statuses._classify_and_book`'s INSERT … SELECT,
    in the transaction that creates the job, with the instruction found by a join to the batch's
    transfers, so both exist by construction (the SQLite path writes the job's rows in the same
    transaction, then links them by a join too); the deferred check of the two keys, a look-up and
    a row lock per status at commit, was a third of a million statuses' commit. Neither is ever
    deleted under its rows: Django still applies on_delete (CASCADE for a job, PROTECT for a
    transfer). The job's own index would repeat the unique (job, row number)'s leading column."""

    job = models.ForeignKey(
        StatusImport, on_delete=models.CASCADE, related_name="rows", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField()
    end_to_end_id = models.CharField(max_length=35)
    bank_status = models.CharField(max_length=4)
    status = models.CharField(max_length=10, blank=True)  # the InstructionState it maps to
    reason_code = models.CharField(max_length=8, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    instruction = models.ForeignKey(
        Instruction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    outcome = models.CharField(max_length=12, choices=RowOutcome.choices)

    class Meta:
        verbose_name = _("status row")
        verbose_name_plural = _("status rows")
        ordering = ["job_id", "row_number"]
        # the only index: every reader takes a job's rows (by outcome, status, row number); none
        # looks rows up by transfer or end-to-end id (the repeats are found by a window over the
        # file's rows before they are written), and a million rows a month are written at once
        # (disbursement 0009 dropped the (job, end-to-end id) and transfer indexes)
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="disb_import_row_unique")]

    def __str__(self) -> str:
        return f"{self.end_to_end_id}: {self.bank_status}"


class ExceptionKind(models.TextChoices):
    REJECTED = "rejected", _("Transfer rejected")
    HELD = "held", _("Held: stop recorded after approval")
    LATE_CREDIT = "late_credit", _("Credited after a switch to cash")
    AMOUNT_MISMATCH = "mismatch", _("Amount in the answer differs")
    NO_ANSWER = "no_answer", _("No answer from the bank")
    CANNOT_WITHDRAW = "cannot_withdraw", _("Could not withdraw at the pay point")


class ExceptionState(models.TextChoices):
    OPEN = "open", pgettext_lazy("transfer exception", "To resolve")
    IN_HAND = "in_hand", pgettext_lazy("transfer exception", "Fix awaiting approval")
    RESOLVED = "resolved", pgettext_lazy("transfer exception", "Resolved")


class Resolution(models.TextChoices):
    RESENT = "resent", _("Resent to a corrected account")
    TO_CASH = "to_cash", _("Paid in cash this month")
    NOT_PAID = "not_paid", _("Not paid (the stop stands)")
    RECOVERY = "recovery", _("Overpayment to recover")
    CONFIRMED = "confirmed", _("Confirmed by a status query")
    NOTED = "noted", _("Checked with the provider")


class TransferException(models.Model):
    kind = models.CharField(_("exception"), max_length=16, choices=ExceptionKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=ExceptionState.choices, default=ExceptionState.OPEN)
    instruction = models.ForeignKey(
        Instruction, null=True, blank=True, on_delete=models.PROTECT, related_name="exceptions"
    )
    batch = models.ForeignKey(ProviderBatch, on_delete=models.PROTECT, related_name="exceptions")
    line = models.ForeignKey("payroll.PayrollLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    fix = models.ForeignKey("payroll.LineFix", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolution = models.CharField(_("resolution"), max_length=10, choices=Resolution.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("transfer exception")
        verbose_name_plural = _("transfer exceptions")
        ordering = ["state", "-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "kind"], condition=Q(instruction__isnull=False), name="disb_exception_unique"
            ),
            models.UniqueConstraint(
                fields=["batch", "kind"], condition=Q(instruction__isnull=True), name="disb_exception_batch_unique"
            ),
            models.CheckConstraint(condition=Q(kind__in=ExceptionKind.values), name="disb_exception_kind"),
            models.CheckConstraint(condition=Q(state__in=ExceptionState.values), name="disb_exception_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.instruction_id})"

    @property
    def audit_area(self):
        return self.commune


# --- the sandbox bank's own books (disbursement.sandbox) -------------------------------------------


class SandboxTransfer(models.Model):
    """What the sandbox bank received and decided, one row per end-to-end id: it credits each
    instruction at most once, whatever is resent. Only the sandbox writes here; nothing else reads it
    as truth (the system learns outcomes only from the status reports the sandbox answers)."""

    # unique and indexed by a constraint and an index of Meta: `unique=True` and `db_index=True`
    # would add a second (LIKE) index to each on PostgreSQL, written for every transfer received
    # and never read (the books are looked up by whole ids and message ids)
    end_to_end_id = models.CharField(max_length=35)
    message_id = models.CharField(max_length=35)
    amount = models.BigIntegerField()
    creditor_name = models.CharField(max_length=140)
    account_hash = models.CharField(max_length=64)
    bank_status = models.CharField(max_length=4)  # ACSC, RJCT or PDNG (delayed)
    reason_code = models.CharField(max_length=8, blank=True)
    final_status = models.CharField(max_length=4)  # what a status query answers once the delay is over
    final_reason_code = models.CharField(max_length=8, blank=True)
    received_at = models.DateTimeField()
    answer_after = models.DateTimeField(null=True, blank=True)
    credited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox bank transfer")
        verbose_name_plural = _("sandbox bank transfers")
        constraints = [models.UniqueConstraint(fields=["end_to_end_id"], name="disb_sandbox_e2e_unique")]
        indexes = [models.Index(fields=["message_id"], name="disb_sandbox_message")]

    def __str__(self) -> str:
        return f"{self.end_to_end_id}: {self.bank_status}"


class SandboxMessage(models.Model):
    """A pain.001 the sandbox bank received (by its SHA-256): the same file again is answered
    from here."""

    message_id = models.CharField(max_length=35)
    sha256 = models.CharField(max_length=64, unique=True)
    transactions = models.PositiveIntegerField()
    control_sum = models.BigIntegerField()
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("sandbox bank message")
        verbose_name_plural = _("sandbox bank messages")

    def __str__(self) -> str:
        return self.message_id
