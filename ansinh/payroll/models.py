"""The monthly payment cycle (issue 10, parts 1 and 4): one cycle per approving unit, programme
and month (the month the allowance is for), its deadlines from the province's payment calendar,
and the contracts with the payment service provider.

The cycle's states and the allowed transitions are ONE map (`TRANSITIONS`: state → the states it
may move to, each with the capability a user needs to move it there); `PaymentCycle.set_state`
refuses anything else. The checks each transition needs (a change list, payroll lines, a funding
record…) live in `services.CHECKS`. See docs/payment-cycle.md."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ansinh.accounts.roles import Cap
from ansinh.core.errors import InvalidTransition


class CycleState(models.TextChoices):
    OPEN = "open", pgettext_lazy("payment cycle", "Open for changes")
    CHANGES_SUBMITTED = "changes_submitted", pgettext_lazy("payment cycle", "Changes submitted")
    APPRAISED = "appraised", pgettext_lazy("payment cycle", "Appraised")
    PAYROLL_GENERATED = "payroll_generated", pgettext_lazy("payment cycle", "Payroll generated")
    APPROVED = "approved", pgettext_lazy("payment cycle", "Approved")
    FUNDED = "funded", pgettext_lazy("payment cycle", "Funded")
    SENT_TO_PROVIDER = "sent_to_provider", pgettext_lazy("payment cycle", "Sent to the provider")
    PAYING = "paying", pgettext_lazy("payment cycle", "Paying")
    SETTLED = "settled", pgettext_lazy("payment cycle", "Settled with the provider")
    CLOSED = "closed", pgettext_lazy("payment cycle", "Closed")


S = CycleState

# The one map of allowed transitions: state → {next state: capability needed in the cycle's area}.
# Two edges go back: the office returns a commune's changes, and a draft payroll is withdrawn
# (before approval). An approved payroll never goes back (corrections go into the next month).
TRANSITIONS: dict[str, dict[str, str]] = {
    S.OPEN: {S.CHANGES_SUBMITTED: Cap.PAYROLL_SUBMIT_CHANGES},
    S.CHANGES_SUBMITTED: {S.OPEN: Cap.PAYROLL_PREPARE, S.APPRAISED: Cap.PAYROLL_PREPARE},
    S.APPRAISED: {S.PAYROLL_GENERATED: Cap.PAYROLL_PREPARE},
    S.PAYROLL_GENERATED: {S.APPRAISED: Cap.PAYROLL_PREPARE, S.APPROVED: Cap.PAYROLL_APPROVE},
    S.APPROVED: {S.FUNDED: Cap.PAYROLL_PREPARE},
    S.FUNDED: {S.SENT_TO_PROVIDER: Cap.PAYROLL_PREPARE},
    S.SENT_TO_PROVIDER: {S.PAYING: Cap.PAYMENTS_PROVIDE},
    S.PAYING: {S.SETTLED: Cap.PAYROLL_PREPARE},
    S.SETTLED: {S.CLOSED: Cap.PAYROLL_PREPARE},
    S.CLOSED: {},
}

# The order of the states along the normal path (for "this deadline is met once the cycle got here").
STATE_ORDER: dict[str, int] = {state: i for i, state in enumerate(CycleState.values)}


def first_of_month(day: date) -> date:
    return day.replace(day=1)


class PaymentCycle(models.Model):
    approving_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("approving unit"), on_delete=models.PROTECT, related_name="payment_cycles"
    )
    programme = models.ForeignKey(
        "policy.Programme", verbose_name=_("programme"), on_delete=models.PROTECT, related_name="payment_cycles"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month the allowance is for."))
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="payment_cycles"
    )
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    state = models.CharField(_("state"), max_length=20, choices=CycleState.choices, default=CycleState.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment cycle")
        verbose_name_plural = _("payment cycles")
        ordering = ["-month", "area_path", "programme_id"]
        constraints = [
            models.UniqueConstraint(fields=["approving_unit", "programme", "month"], name="payroll_cycle_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="payroll_cycle_month_first_day"),
            models.CheckConstraint(condition=Q(state__in=CycleState.values), name="payroll_cycle_state_valid"),
        ]
        indexes = [models.Index(fields=["month", "state"], name="payroll_cycle_month_state")]

    def __str__(self) -> str:
        return f"{self.programme.code} {self.month:%m/%Y} – {self.approving_unit}"

    @property
    def audit_area(self):
        return self.area

    def allowed_states(self) -> list[str]:
        return list(TRANSITIONS.get(self.state, {}))

    def set_state(self, state: str) -> None:
        """Move to `state` if the map allows it (the caller saves and audits)."""
        if state not in TRANSITIONS.get(self.state, {}):
            raise InvalidTransition(
                _("A cycle cannot go from “%(source)s” to “%(target)s”.")
                % {"source": CycleState(self.state).label, "target": _state_label(state)}
            )
        self.state = state


def _state_label(state: str) -> str:
    return str(CycleState(state).label) if state in CycleState.values else state


class DeadlineKind(models.TextChoices):
    COMMUNE_CHANGES = "commune_changes", _("Commune change list")
    PAYROLL_FUNDING = "payroll_funding", _("Appraised payroll and funding request")
    TRANSFERS = "transfers", _("Transfers to the receiving accounts")
    PROVIDER_SETTLEMENT = "provider_settlement", _("Settlement by the provider")
    OFFICE_SETTLEMENT = "office_settlement", _("Settlement with the finance office")


# A deadline is met when the cycle reaches this state (or a later one on the normal path).
DEADLINE_MET_AT: dict[str, str] = {
    DeadlineKind.COMMUNE_CHANGES: S.CHANGES_SUBMITTED,
    DeadlineKind.PAYROLL_FUNDING: S.SENT_TO_PROVIDER,
    DeadlineKind.TRANSFERS: S.PAYING,
    DeadlineKind.PROVIDER_SETTLEMENT: S.SETTLED,
    DeadlineKind.OFFICE_SETTLEMENT: S.CLOSED,
}

# The days of the An Giang plan (360/KH-UBND, section V): the defaults of a province's calendar.
DEFAULT_DAYS: dict[str, int] = {
    DeadlineKind.COMMUNE_CHANGES: 2,
    DeadlineKind.PAYROLL_FUNDING: 4,
    DeadlineKind.TRANSFERS: 8,
    DeadlineKind.PROVIDER_SETTLEMENT: 20,
    DeadlineKind.OFFICE_SETTLEMENT: 25,
}


class CycleDeadline(models.Model):
    cycle = models.ForeignKey(PaymentCycle, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(_("deadline"), max_length=20, choices=DeadlineKind.choices)
    due_date = models.DateField(_("due date"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("cycle deadline")
        verbose_name_plural = _("cycle deadlines")
        ordering = ["due_date", "kind"]
        constraints = [models.UniqueConstraint(fields=["cycle", "kind"], name="payroll_deadline_unique")]
        indexes = [models.Index(fields=["due_date"], condition=Q(done_at__isnull=True), name="payroll_deadline_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_date:%d/%m/%Y}"

    def is_overdue(self, today: date) -> bool:
        return self.done_at is None and self.due_date < today


class NonWorkingRule(models.TextChoices):
    PREVIOUS = "previous", _("Move to the previous working day")
    NEXT = "next", _("Move to the next working day")


def _day_field(label, kind: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, default=DEFAULT_DAYS[kind])


class PaymentCalendar(models.Model):
    """A province's monthly deadlines (day of the month the allowance is for, 1–28) and what
    happens when a deadline falls on a Saturday, a Sunday or a Vietnamese public holidays
    (`holidays.country_holidays("VN")`). A province without a row uses the defaults."""

    province = models.OneToOneField(
        "areas.Area", verbose_name=_("province"), on_delete=models.PROTECT, related_name="payment_calendar"
    )
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    commune_changes_day = _day_field(_("commune change list, day"), DeadlineKind.COMMUNE_CHANGES)
    payroll_funding_day = _day_field(_("appraised payroll and funding request, day"), DeadlineKind.PAYROLL_FUNDING)
    transfers_day = _day_field(_("transfers, day"), DeadlineKind.TRANSFERS)
    provider_settlement_day = _day_field(_("provider settlement, day"), DeadlineKind.PROVIDER_SETTLEMENT)
    office_settlement_day = _day_field(_("settlement with the finance office, day"), DeadlineKind.OFFICE_SETTLEMENT)
    non_working_rule = models.CharField(
        _("deadline on a weekend or public holiday"),
        max_length=10,
        choices=NonWorkingRule.choices,
        default=NonWorkingRule.PREVIOUS,
    )
    remind_days_before = models.PositiveSmallIntegerField(
        _("reminder, working days before"), default=1, help_text=_("0: no reminder before the deadline.")
    )
    recovery_share_percent = models.PositiveSmallIntegerField(
        _("share of a payment deducted for a recovery (%)"),
        default=100,
        help_text=_("How much of a beneficiary's monthly payment may go to recovering an overpayment."),
    )
    mortality_per_mille = models.PositiveSmallIntegerField(
        _("yearly deaths per 1,000 beneficiaries (budget estimate)"), default=30
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment calendar")
        verbose_name_plural = _("payment calendars")
        constraints = [
            models.CheckConstraint(
                condition=Q(commune_changes_day__gte=1, commune_changes_day__lte=28)
                & Q(payroll_funding_day__gte=1, payroll_funding_day__lte=28)
                & Q(transfers_day__gte=1, transfers_day__lte=28)
                & Q(provider_settlement_day__gte=1, provider_settlement_day__lte=28)
                & Q(office_settlement_day__gte=1, office_settlement_day__lte=28),
                name="payroll_calendar_days_in_month",
            ),
            models.CheckConstraint(condition=Q(remind_days_before__lte=10), name="payroll_calendar_reminder_days"),
            models.CheckConstraint(
                condition=Q(recovery_share_percent__gte=1, recovery_share_percent__lte=100),
                name="payroll_calendar_recovery_share",
            ),
            models.CheckConstraint(condition=Q(mortality_per_mille__lte=1000), name="payroll_calendar_mortality"),
        ]

    def __str__(self) -> str:
        return str(self.province)

    @property
    def audit_area(self):
        return self.province

    def day_of(self, kind: str) -> int:
        return int(getattr(self, f"{kind}_day"))


class FeeKind(models.TextChoices):
    FLAT = "flat", _("Flat amount per beneficiary paid per month")
    PERCENT = "percent", _("Percentage of the amount paid")


class ContractPurpose(models.TextChoices):
    REGULAR = "regular", _("Monthly allowances")
    FUNERAL_EMERGENCY = "funeral_emergency", _("Funeral and emergency support")


class ProviderContract(models.Model):
    """The paying unit's contract with the payment service provider (hợp đồng chi trả): one a
    year (six months for the second half of 2023 in the An Giang plan). No two contracts of the
    same paying unit and purpose may overlap (services; on PostgreSQL also an exclusion
    constraint, migration 0002)."""

    number = models.CharField(_("contract number"), max_length=60)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    paying_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("paying unit"), on_delete=models.PROTECT, related_name="contracts_as_payer"
    )
    provider = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("provider"), on_delete=models.PROTECT, related_name="contracts_as_provider"
    )
    areas = models.ManyToManyField("areas.Area", verbose_name=_("areas served"), related_name="provider_contracts")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)  # the paying unit's area
    purpose = models.CharField(_("purpose"), max_length=20, choices=ContractPurpose.choices)
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"))
    covers_account = models.BooleanField(_("payment into accounts"), default=True)
    covers_pay_point = models.BooleanField(_("cash at pay points"), default=True)
    covers_home = models.BooleanField(_("cash at home"), default=True)
    fee_kind = models.CharField(_("fee rule"), max_length=10, choices=FeeKind.choices)
    fee_flat = models.BigIntegerField(_("fee per beneficiary paid per month (đồng)"), default=0)
    fee_basis_points = models.PositiveIntegerField(
        _("fee, basis points of the amount paid"), default=0, help_text=_("1 basis point = 0.01 %; 150 = 1.5 %.")
    )
    transfer_day = models.PositiveSmallIntegerField(_("transfers by day"), default=8)
    payment_day = models.PositiveSmallIntegerField(_("cash paid by day"), default=15)
    settlement_day = models.PositiveSmallIntegerField(_("settlement on day"), default=20)
    # the provider's account the office funds and the transfers are paid from (the debtor of the
    # ISO 20022 pain.001 files, ansinh.disbursement)
    provider_account_number = models.CharField(_("provider's funded account number"), max_length=34, blank=True)
    provider_institution = models.ForeignKey(
        "payments.Institution",
        verbose_name=_("bank of the provider's account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    wrong_payments = models.TextField(_("handling of wrong payments"), blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("provider contract")
        verbose_name_plural = _("provider contracts")
        ordering = ["-valid_from", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__gte=F("valid_from")), name="payroll_contract_period"),
            models.CheckConstraint(
                condition=(Q(fee_kind="flat", fee_flat__gte=0, fee_basis_points=0))
                | Q(fee_kind="percent", fee_flat=0, fee_basis_points__lte=10000),
                name="payroll_contract_fee_rule",
            ),
            models.CheckConstraint(
                condition=Q(transfer_day__gte=1, transfer_day__lte=31)
                & Q(payment_day__gte=1, payment_day__lte=31)
                & Q(settlement_day__gte=1, settlement_day__lte=31),
                name="payroll_contract_days",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} – {self.provider}"

    @property
    def audit_area(self):
        return self.paying_unit.area

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to

    @property
    def channels(self) -> list[str]:
        names = [("account", self.covers_account), ("pay_point", self.covers_pay_point), ("home", self.covers_home)]
        return [n for n, on in names if on]


class LineType(models.TextChoices):
    REGULAR = "regular", _("Regular allowance")
    ARREARS = "arrears", _("Arrears")
    RECOVERY = "recovery", _("Recovery of an overpayment")
    FUNERAL = "funeral", _("Funeral support")


class Channel(models.TextChoices):
    ACCOUNT = "account", _("Transfer to an account")
    PAY_POINT = "pay_point", _("Cash at a pay point")
    HOME = "home", _("Cash at home")


class PayrollLine(models.Model):
    """One line of a cycle's payroll: what one beneficiary is paid for one line type, to whom
    and how. Amounts are whole đồng from the one entitlement function (`policy.entitlement`);
    the payee's name and the account are snapshots taken at generation (the account number
    itself never: only the institution, the last four digits and the holder's name).
    `basis` keeps the entitlement's explanation and category codes (sensitive ones are hidden
    from readers without registry.view_sensitive)."""

    cycle = models.ForeignKey(PaymentCycle, on_delete=models.PROTECT, related_name="lines")
    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="payroll_lines")
    line_type = models.CharField(_("line type"), max_length=10, choices=LineType.choices, default=LineType.REGULAR)
    amount = models.BigIntegerField(_("amount (đồng)"))
    representation = models.ForeignKey(
        "registry.Representation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payee_name = models.CharField(_("payee"), max_length=150)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    account = models.ForeignKey(
        "payments.ReceivingAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account_institution = models.CharField(max_length=20, blank=True)
    account_last4 = models.CharField(max_length=4, blank=True)
    account_holder = models.CharField(max_length=150, blank=True)
    area_path = models.CharField(max_length=255, editable=False)
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    basis = models.JSONField(default=dict, blank=True)
    # arrears: {"YYYY-MM": amount} of the months paid; recovery: the receivable deducted
    months = models.JSONField(default=dict, blank=True)
    receivable = models.ForeignKey("Receivable", null=True, blank=True, on_delete=models.PROTECT, related_name="lines")
    funeral = models.ForeignKey("FuneralSupport", null=True, blank=True, on_delete=models.PROTECT, related_name="lines")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payroll line")
        verbose_name_plural = _("payroll lines")
        ordering = ["cycle_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "beneficiary", "line_type"], name="payroll_line_unique"),
            models.CheckConstraint(
                condition=~Q(line_type="regular") | Q(amount__gte=0), name="payroll_line_regular_not_negative"
            ),
            models.CheckConstraint(condition=Q(line_type__in=LineType.values), name="payroll_line_type_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="payroll_line_channel_valid"),
        ]
        indexes = [models.Index(fields=["area_path"], name="payroll_line_area")]

    def __str__(self) -> str:
        return f"{self.get_line_type_display()} {self.amount}"

    # An approved payroll is immutable (issue 10 part 3): refused here on every database, and on
    # PostgreSQL also by a trigger (migration approved_lines_immutable). Bulk writes go through
    # services that check `approval.assert_mutable` first.
    def save(self, *args, **kwargs):
        from .approval import assert_mutable

        assert_mutable(self.cycle_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        from .approval import assert_mutable

        assert_mutable(self.cycle_id)
        return super().delete(*args, **kwargs)

    @property
    def masked_account(self) -> str:
        return f"{self.account_institution} •••• {self.account_last4}" if self.account_last4 else ""


class PayrollRun(models.Model):
    """The summary of a cycle's current payroll (one per cycle, replaced on re-generation)."""

    cycle = models.OneToOneField(PaymentCycle, on_delete=models.PROTECT, related_name="payroll_run")
    lines = models.PositiveIntegerField(default=0)
    total_amount = models.BigIntegerField(default=0)
    per_channel = models.JSONField(default=dict, blank=True)
    per_line_type = models.JSONField(default=dict, blank=True)
    generated_at = models.DateTimeField()
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payroll run")
        verbose_name_plural = _("payroll runs")

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.lines}"


# --- monthly change lists (issue 10 part 2) ---------------------------------------------------------


class ChangeListState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("change list", "Being prepared")
    SUBMITTED = "submitted", pgettext_lazy("change list", "Submitted")
    ACCEPTED = "accepted", pgettext_lazy("change list", "Accepted")
    RETURNED = "returned", pgettext_lazy("change list", "Returned with comments")


class ChangeList(models.Model):
    """A commune's monthly list of increases, decreases and adjustments (danh sách tăng, giảm,
    điều chỉnh) for one cycle. Built from the registry and payments data (`changelists.build`),
    completed with manual adjustments, submitted by the commune, accepted or returned by the
    office. `used_previous` marks a commune that missed its deadline and whose last accepted
    list the office generated with (the overdue is recorded, the others are not held up)."""

    cycle = models.ForeignKey(PaymentCycle, on_delete=models.PROTECT, related_name="change_lists")
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=ChangeListState.choices, default=ChangeListState.DRAFT)
    built_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(_("office's comments"), blank=True)
    overdue = models.BooleanField(_("submitted late or missing"), default=False)
    used_previous = models.BooleanField(_("generated with the last accepted list"), default=False)

    class Meta:
        verbose_name = _("change list")
        verbose_name_plural = _("change lists")
        ordering = ["cycle_id", "area_path"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "commune"], name="payroll_changelist_unique"),
            models.CheckConstraint(condition=Q(state__in=ChangeListState.values), name="payroll_changelist_state"),
        ]

    def __str__(self) -> str:
        return f"{self.commune} {self.cycle.month:%m/%Y}"

    @property
    def audit_area(self):
        return self.commune


class ChangeKind(models.TextChoices):
    NEW = "new", _("New beneficiary")
    STOPPED = "stopped", _("Stopped")
    SUSPENDED = "suspended", _("Suspended")
    RESUMED = "resumed", _("Resumed")
    ADJUSTED = "adjusted", _("Amount adjusted")
    MOVED_IN = "moved_in", _("Moved in")
    MOVED_OUT = "moved_out", _("Moved out")
    METHOD = "method", _("Payment method changed")
    PAYEE = "payee", _("Payee changed")
    MANUAL = "manual", _("Manual adjustment")


class ChangeItem(models.Model):
    """One line of a change list. `late` marks a change whose effective month is before the
    cycle's month (it arrived after that month's payroll): the payroll pays arrears or opens a
    recovery for it. Manual items carry a reason and an amount (positive: to pay, negative: to
    recover)."""

    change_list = models.ForeignKey(ChangeList, on_delete=models.CASCADE, related_name="items")
    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("change"), max_length=10, choices=ChangeKind.choices)
    effective_month = models.DateField(_("effective month"))
    late = models.BooleanField(_("late change"), default=False)
    amount_before = models.BigIntegerField(_("amount before (đồng)"), null=True, blank=True)
    amount_after = models.BigIntegerField(_("amount after (đồng)"), null=True, blank=True)
    manual_amount = models.BigIntegerField(_("adjustment (đồng)"), null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["change_list_id", "kind", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ChangeKind.values), name="payroll_changeitem_kind"),
            models.CheckConstraint(
                condition=~Q(kind="manual") | (~Q(reason="") & Q(manual_amount__isnull=False)),
                name="payroll_changeitem_manual_reason",
            ),
        ]
        indexes = [models.Index(fields=["beneficiary", "effective_month"], name="payroll_changeitem_person")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.effective_month:%m/%Y}"


# --- arrears, recoveries and funeral support (issue 10 part 3) ---------------------------------------


class PaidMonth(models.Model):
    """What an approved payroll paid one beneficiary for one month of one programme: the regular
    line and any arrears line for that month. Written when a payroll is approved; the arrears
    and recoveries of later months are computed from it (entitled now − paid), so that no month
    is paid twice and none is skipped."""

    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey("policy.Programme", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    amount = models.BigIntegerField()
    line = models.ForeignKey("PayrollLine", on_delete=models.PROTECT, related_name="paid_months")

    class Meta:
        verbose_name = _("paid month")
        verbose_name_plural = _("paid months")
        constraints = [
            models.UniqueConstraint(fields=["line", "month"], name="payroll_paidmonth_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="payroll_paidmonth_first_day"),
        ]
        indexes = [models.Index(fields=["beneficiary", "programme", "month"], name="payroll_paidmonth_person")]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y}: {self.amount}"


class ReceivableState(models.TextChoices):
    OPEN = "open", pgettext_lazy("receivable", "Open")
    RECOVERED = "recovered", pgettext_lazy("receivable", "Recovered")
    WRITE_OFF_REQUESTED = "write_off_requested", pgettext_lazy("receivable", "Write-off requested")
    WRITTEN_OFF = "written_off", pgettext_lazy("receivable", "Written off")


class ReceivableReason(models.TextChoices):
    PAID_AFTER_DEATH = "after_death", _("Paid after death")
    PAID_AFTER_STOP = "after_stop", _("Paid after the allowance stopped")
    AMOUNT_LOWERED = "lowered", _("Paid more than the amount decided")
    MANUAL = "manual", _("Manual adjustment")


class Receivable(models.Model):
    """An overpayment to recover (thu hồi): against the beneficiary, or the payee who received
    the money. Deducted from the beneficiary's next payments up to the province's share per
    month (`PaymentCalendar.recovery_share_percent`, default all) through recovery lines
    (negative amounts linked here); otherwise kept open for settlement: recovered from the payee,
    or written off with a second person's approval."""

    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="receivables")
    programme = models.ForeignKey("policy.Programme", on_delete=models.PROTECT, related_name="+")
    representation = models.ForeignKey(
        "registry.Representation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    debtor_name = models.CharField(_("owed by"), max_length=150)
    reason = models.CharField(_("reason"), max_length=12, choices=ReceivableReason.choices)
    months = models.JSONField(_("months overpaid"), default=list, blank=True)
    amount = models.BigIntegerField(_("amount (đồng)"))
    recovered = models.BigIntegerField(_("recovered (đồng)"), default=0)
    state = models.CharField(_("state"), max_length=20, choices=ReceivableState.choices, default=ReceivableState.OPEN)
    detected_in = models.ForeignKey(
        PaymentCycle, null=True, blank=True, on_delete=models.PROTECT, related_name="receivables_detected"
    )
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    write_off_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    write_off_reason = models.TextField(_("reason for writing off"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payroll_receivable_positive"),
            models.CheckConstraint(
                condition=Q(recovered__gte=0, recovered__lte=F("amount")), name="payroll_receivable_recovered"
            ),
            models.CheckConstraint(condition=Q(state__in=ReceivableState.values), name="payroll_receivable_state"),
        ]

    def __str__(self) -> str:
        return f"{self.debtor_name}: {self.amount - self.recovered}"

    @property
    def outstanding(self) -> int:
        return self.amount - self.recovered

    @property
    def audit_area(self):
        return self.beneficiary.commune


class FuneralState(models.TextChoices):
    RECORDED = "recorded", pgettext_lazy("funeral support", "Recorded")
    PAID = "paid", pgettext_lazy("funeral support", "On a payroll")
    CANCELLED = "cancelled", pgettext_lazy("funeral support", "Cancelled")


class FuneralSupport(models.Model):
    """One-off funeral support (hỗ trợ mai táng), recorded with the death: paid to the person who
    organises the funeral (not necessarily a representative), as its own payroll line type under
    the funeral and emergency support contract. The amount comes from the policy's one-off
    table on the day of death."""

    beneficiary = models.OneToOneField("registry.Beneficiary", on_delete=models.PROTECT, related_name="funeral_support")
    death_date = models.DateField(_("date of death"))
    organiser_name = models.CharField(_("person organising the funeral"), max_length=150)
    organiser_cccd = models.CharField(_("their citizen ID (CCCD)"), max_length=12, blank=True)
    organiser_phone = models.CharField(_("their phone"), max_length=16, blank=True)
    relationship = models.CharField(_("relationship to the deceased"), max_length=60, blank=True)
    category_code = models.CharField(max_length=40)
    amount = models.BigIntegerField(_("amount (đồng)"))
    state = models.CharField(_("state"), max_length=10, choices=FuneralState.choices, default=FuneralState.RECORDED)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("funeral support")
        verbose_name_plural = _("funeral support")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payroll_funeral_positive")]

    def __str__(self) -> str:
        return f"{self.organiser_name}: {self.amount}"

    @property
    def audit_area(self):
        return self.beneficiary.commune


# --- approval and same-month fixes (issue 10 part 3) ----------------------------------------------


class PayrollApproval(models.Model):
    """The approval of a cycle's payroll by a second person (not the preparer) confirmed with a
    TOTP code. `content_hash` is the SHA-256 of the approved lines in a canonical order
    (`approval.content_hash`): any file made from the payroll can be checked against it."""

    cycle = models.OneToOneField(PaymentCycle, on_delete=models.PROTECT, related_name="approval")
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField()
    lines = models.PositiveIntegerField()
    total_amount = models.BigIntegerField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("payroll approval")
        verbose_name_plural = _("payroll approvals")

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.content_hash[:12]}"


class FixKind(models.TextChoices):
    RESEND = "resend", _("Resend to a corrected account")
    TO_CASH = "to_cash", _("Pay in cash this month")


class FixState(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("line fix", "Awaiting approval")
    APPROVED = "approved", pgettext_lazy("line fix", "Approved")
    REJECTED = "rejected", pgettext_lazy("line fix", "Rejected")


class LineFix(models.Model):
    """A same-month fix of HOW an approved line is paid (resend to a corrected account, or pay
    in cash), linked to the line and approved by a second person. The line's amount never
    changes; amount corrections go into the next month."""

    line = models.ForeignKey(PayrollLine, on_delete=models.PROTECT, related_name="fixes")
    kind = models.CharField(_("fix"), max_length=10, choices=FixKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    account = models.ForeignKey(
        "payments.ReceivingAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=10, choices=FixState.choices, default=FixState.REQUESTED)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment fix")
        verbose_name_plural = _("payment fixes")
        ordering = ["-requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["line"], condition=Q(state="requested"), name="payroll_linefix_one_pending"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="payroll_linefix_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.line_id})"


# --- funding (issue 10 part 5) --------------------------------------------------------------------


class FundingRequest(models.Model):
    """The funding request (đề nghị tạm ứng) of an approved cycle: totals per channel plus the
    expected fee, frozen from the approved payroll."""

    cycle = models.OneToOneField(PaymentCycle, on_delete=models.PROTECT, related_name="funding_request")
    number = models.CharField(_("number"), max_length=60, blank=True)
    per_channel = models.JSONField(default=dict)
    allowances_total = models.BigIntegerField(_("allowances (đồng)"))
    fee_total = models.BigIntegerField(_("service fee (đồng)"))
    total = models.BigIntegerField(_("total requested (đồng)"))
    content_hash = models.CharField(max_length=64)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()

    class Meta:
        verbose_name = _("funding request")
        verbose_name_plural = _("funding requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(total=F("allowances_total") + F("fee_total")), name="payroll_funding_total"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.total}"


class Advance(models.Model):
    """An advance received from the treasury (tạm ứng) for a cycle."""

    cycle = models.ForeignKey(PaymentCycle, on_delete=models.PROTECT, related_name="advances")
    amount = models.BigIntegerField(_("amount (đồng)"))
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("treasury reference"), max_length=60)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("advance")
        verbose_name_plural = _("advances")
        ordering = ["received_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "reference"], name="payroll_advance_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payroll_advance_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount}"
