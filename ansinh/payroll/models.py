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
