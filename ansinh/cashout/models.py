"""Cash pay-out (issue 12): pay points and their days, home-delivery routes, the cash lists of a
cycle (one per pay point and per route), what the provider's staff record on them (receipts,
with an idempotency key each), withdrawals by account holders at a pay point, and the accounts
flagged for follow-up when a holder could not withdraw.

A cash list holds one entry per beneficiary: the net of the month's cash lines (regular +
arrears − recovery, funeral support its own entry), as the post office pays one amount per
person. Paying an entry writes one `disbursement.Payout` per payroll line (unique line): a line
is paid once whatever the channel."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# --- pay points and routes ----------------------------------------------------------------------


class PayPointKind(models.TextChoices):
    POST_OFFICE = "post_office", _("Post office")
    COMMUNE_HALL = "commune_hall", _("Commune hall")
    OTHER = "other", _("Other place")


class PayPoint(models.Model):
    """A place where cash is paid and account holders are helped to withdraw (điểm chi trả).
    `villages` empty: it serves the whole commune."""

    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("type"), max_length=12, choices=PayPointKind.choices)
    address = models.CharField(_("address"), max_length=255)
    atm_nearby = models.BooleanField(_("ATM nearby"), default=False)
    atm_note = models.CharField(_("where the ATM is"), max_length=255, blank=True)
    villages = models.ManyToManyField("areas.Area", verbose_name=_("villages served"), blank=True, related_name="+")
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("provider staff"), blank=True, related_name="pay_points"
    )
    contact = models.CharField(_("contact person and phone"), max_length=255, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pay point")
        verbose_name_plural = _("pay points")
        ordering = ["area_path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["commune", "name"], name="cashout_paypoint_unique_name"),
            models.CheckConstraint(condition=Q(kind__in=PayPointKind.values), name="cashout_paypoint_kind"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_area(self):
        return self.commune


class DeliveryRoute(models.Model):
    """A home-delivery route of a commune (chi trả tại nhà): the villages it goes through and the
    staff who carry the cash."""

    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    name = models.CharField(_("name"), max_length=150)
    villages = models.ManyToManyField("areas.Area", verbose_name=_("villages"), blank=True, related_name="+")
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("provider staff"), blank=True, related_name="delivery_routes"
    )
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("home-delivery route")
        verbose_name_plural = _("home-delivery routes")
        ordering = ["area_path", "name"]
        constraints = [models.UniqueConstraint(fields=["commune", "name"], name="cashout_route_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_area(self):
        return self.commune


class PayDay(models.Model):
    """One day of a month's schedule at a pay point or on a route, with its hours."""

    pay_point = models.ForeignKey(PayPoint, null=True, blank=True, on_delete=models.PROTECT, related_name="days")
    route = models.ForeignKey(DeliveryRoute, null=True, blank=True, on_delete=models.PROTECT, related_name="days")
    month = models.DateField(_("month"))
    day = models.DateField(_("date"))
    opens = models.TimeField(_("from"))
    closes = models.TimeField(_("until"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("pay day")
        verbose_name_plural = _("pay days")
        ordering = ["day", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pay_point__isnull=False, route__isnull=True)
                | Q(pay_point__isnull=True, route__isnull=False),
                name="cashout_payday_one_place",
            ),
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="cashout_payday_hours"),
            models.CheckConstraint(condition=Q(month__day=1), name="cashout_payday_month_first_day"),
            models.UniqueConstraint(
                fields=["pay_point", "day"], condition=Q(pay_point__isnull=False), name="cashout_payday_point_unique"
            ),
            models.UniqueConstraint(
                fields=["route", "day"], condition=Q(route__isnull=False), name="cashout_payday_route_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day:%d/%m/%Y} {self.opens:%H:%M}–{self.closes:%H:%M}"


# --- cash lists -------------------------------------------------------------------------------------


class CashListKind(models.TextChoices):
    PAY_POINT = "pay_point", _("Cash at a pay point")
    HOME = "home", _("Cash at home")


class CashListState(models.TextChoices):
    OPEN = "open", pgettext_lazy("cash list", "Paying")
    CLOSED = "closed", pgettext_lazy("cash list", "Closed, unpaid cash returned")


class CashList(models.Model):
    """The cash list of one pay point or one route for one cycle."""

    cycle = models.ForeignKey("payroll.PaymentCycle", on_delete=models.PROTECT, related_name="cash_lists")
    kind = models.CharField(_("kind"), max_length=10, choices=CashListKind.choices)
    pay_point = models.ForeignKey(PayPoint, null=True, blank=True, on_delete=models.PROTECT, related_name="lists")
    route = models.ForeignKey(DeliveryRoute, null=True, blank=True, on_delete=models.PROTECT, related_name="lists")
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    state = models.CharField(_("state"), max_length=8, choices=CashListState.choices, default=CashListState.OPEN)
    entries_count = models.PositiveIntegerField(_("people"), default=0)
    total_amount = models.BigIntegerField(_("total (đồng)"), default=0)
    built_at = models.DateTimeField(_("built"))
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("cash list")
        verbose_name_plural = _("cash lists")
        ordering = ["cycle_id", "area_path", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="pay_point", pay_point__isnull=False, route__isnull=True)
                | Q(kind="home", pay_point__isnull=True, route__isnull=False),
                name="cashout_list_kind_place",
            ),
            models.UniqueConstraint(
                fields=["cycle", "pay_point"], condition=Q(pay_point__isnull=False), name="cashout_list_point_unique"
            ),
            models.UniqueConstraint(
                fields=["cycle", "route"], condition=Q(route__isnull=False), name="cashout_list_route_unique"
            ),
        ]

    def __str__(self) -> str:
        return str(self.pay_point or self.route)

    @property
    def audit_area(self):
        return self.commune


class EntrySource(models.TextChoices):
    PAYROLL = "payroll", _("Cash in the payroll")
    SWITCHED = "switched", _("Switched to cash after a failed transfer")
    WITHDRAWAL = "withdrawal", _("Could not withdraw from the account")


class EntryState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("cash entry", "To pay")
    PAID = "paid", pgettext_lazy("cash entry", "Paid")
    NOT_PAID = "not_paid", pgettext_lazy("cash entry", "Not paid")
    RETURNED = "returned", pgettext_lazy("cash entry", "Returned")
    CANCELLED = "cancelled", pgettext_lazy("cash entry", "Taken off the list")


class CashEntry(models.Model):
    """One person on a cash list: the net amount of the month's cash lines (`lines`). An entry
    of source `withdrawal` hands out, in cash, money already credited to the holder's account:
    its lines already have their payout (account), so paying it writes none."""

    cash_list = models.ForeignKey(CashList, on_delete=models.PROTECT, related_name="entries")
    cycle = models.ForeignKey("payroll.PaymentCycle", on_delete=models.PROTECT, related_name="+")
    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="cash_entries")
    village = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(_("no."), default=0)
    payee_name = models.CharField(_("payee"), max_length=150)
    representation = models.ForeignKey(
        "registry.Representation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.BigIntegerField(_("amount (đồng)"))
    funeral = models.BooleanField(_("funeral support"), default=False)
    source = models.CharField(_("source"), max_length=10, choices=EntrySource.choices, default=EntrySource.PAYROLL)
    state = models.CharField(_("state"), max_length=10, choices=EntryState.choices, default=EntryState.PENDING)
    not_paid_reason = models.CharField(_("reason not paid"), max_length=10, blank=True)
    # owed next month as arrears (unpaid cash of a person still entitled, returned at closing)
    owed = models.BooleanField(_("owed next month"), default=False)
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cash list entry")
        verbose_name_plural = _("cash list entries")
        ordering = ["cash_list_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "beneficiary", "funeral"],
                condition=~Q(state="cancelled"),
                name="cashout_entry_one_live_per_person",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="cashout_entry_amount_positive"),
            models.CheckConstraint(condition=Q(state__in=EntryState.values), name="cashout_entry_state"),
        ]
        indexes = [models.Index(fields=["cycle", "state"], name="cashout_entry_cycle_state")]

    def __str__(self) -> str:
        return f"{self.payee_name}: {self.amount}"

    @property
    def audit_area(self):
        return self.commune


class CashEntryLine(models.Model):
    """A payroll line an entry pays."""

    entry = models.ForeignKey(CashEntry, on_delete=models.CASCADE, related_name="entry_lines")
    line = models.ForeignKey("payroll.PayrollLine", on_delete=models.PROTECT, related_name="cash_entry_lines")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "line"], name="cashout_entryline_unique")]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.line_id}"


# --- receipts ---------------------------------------------------------------------------------------


class ReceiptOutcome(models.TextChoices):
    PAID = "paid", pgettext_lazy("cash receipt", "Paid")
    NOT_PAID = "not_paid", pgettext_lazy("cash receipt", "Not paid")


class NotPaidReason(models.TextChoices):
    ABSENT = "absent", _("Absent")
    DIED = "died", _("Died")
    MOVED = "moved", _("Moved away")
    REFUSED = "refused", _("Refused")
    OTHER = "other", _("Other reason")


class ReceiverKind(models.TextChoices):
    BENEFICIARY = "beneficiary", _("The beneficiary")
    REPRESENTATIVE = "representative", _("A listed representative")


class ReceiptResult(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    ALREADY_PAID = "already_paid", _("Conflict: already paid")
    STOPPED = "stopped", _("Conflict: stopped since the list was made")
    CLOSED = "closed", _("Conflict: the list is closed")
    REFUSED = "refused", _("Refused")


class CashReceipt(models.Model):
    """What a staff member recorded for an entry, once per idempotency key: the same key again
    returns `answer` and records nothing. A submission that conflicts (already paid, stopped
    since, list closed) is kept with its result so the device can show it, but changes nothing."""

    entry = models.ForeignKey(CashEntry, on_delete=models.PROTECT, related_name="receipts")
    idempotency_key = models.CharField(max_length=64, unique=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=ReceiptOutcome.choices)
    reason = models.CharField(_("reason"), max_length=10, choices=NotPaidReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    receiver_kind = models.CharField(_("received by"), max_length=16, choices=ReceiverKind.choices, blank=True)
    representation = models.ForeignKey(
        "registry.Representation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receiver_name = models.CharField(_("receiver"), max_length=150, blank=True)
    cccd_checked = models.BooleanField(_("receiver's CCCD checked"), default=False)
    occurred_at = models.DateTimeField(_("time"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device = models.CharField(max_length=64, blank=True)
    photo = models.FileField(_("photo of the signed receipt"), upload_to="cash-receipts/%Y/%m/", blank=True)
    result = models.CharField(max_length=12, choices=ReceiptResult.choices)
    answer = models.JSONField(default=dict, blank=True)
    area_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("cash receipt")
        verbose_name_plural = _("cash receipts")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(outcome="paid", result="recorded"),
                name="cashout_receipt_one_payment",
            ),
            models.CheckConstraint(
                condition=Q(outcome="not_paid", reason__in=NotPaidReason.values)
                | Q(outcome="paid", reason="", receiver_kind__in=ReceiverKind.values),
                name="cashout_receipt_outcome_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.outcome}"


# --- withdrawals --------------------------------------------------------------------------------------


class WithdrawalMeans(models.TextChoices):
    CARD = "card", _("Card")
    CCCD_SMS = "cccd_sms", _("CCCD and the SMS code")


class WithdrawalOutcome(models.TextChoices):
    SERVED = "served", _("Withdrew")
    CANNOT = "cannot", _("Could not withdraw")


class CannotWithdrawReason(models.TextChoices):
    NO_OTP = "no_otp", _("No OTP received")
    NO_CARD = "no_card", _("No card")
    FORGOT_PIN = "forgot_pin", _("Forgot the PIN")
    OTHER = "other", _("Other reason")


class Withdrawal(models.Model):
    """An account holder served at a pay point (or not). Could not: a cash path the same month
    (an entry of source `withdrawal` on the pay point's list) and the account flagged."""

    cycle = models.ForeignKey("payroll.PaymentCycle", on_delete=models.PROTECT, related_name="+")
    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="withdrawals")
    pay_point = models.ForeignKey(PayPoint, on_delete=models.PROTECT, related_name="withdrawals")
    account = models.ForeignKey(
        "payments.ReceivingAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instruction = models.ForeignKey(
        "disbursement.Instruction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=WithdrawalOutcome.choices)
    means = models.CharField(_("with"), max_length=10, choices=WithdrawalMeans.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=12, choices=CannotWithdrawReason.choices, blank=True)
    amount = models.BigIntegerField(_("amount withdrawn (đồng)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    cash_entry = models.ForeignKey(CashEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=64, unique=True)
    answer = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="served", reason="", means__in=WithdrawalMeans.values)
                | Q(outcome="cannot", reason__in=CannotWithdrawReason.values),
                name="cashout_withdrawal_outcome_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary_id}: {self.outcome}"

    @property
    def audit_area(self):
        return self.commune


class AccountFollowUp(models.Model):
    """An account flagged after its holder could not withdraw (card, OTP, PIN): open until an
    officer closes it with what was done."""

    account = models.ForeignKey("payments.ReceivingAccount", on_delete=models.PROTECT, related_name="follow_ups")
    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="+")
    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="follow_ups")
    reason = models.CharField(_("reason"), max_length=12, choices=CannotWithdrawReason.choices)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome_note = models.CharField(_("what was done"), max_length=255, blank=True)
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("account to follow up")
        verbose_name_plural = _("accounts to follow up")
        ordering = ["closed_at", "-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(closed_at__isnull=True), name="cashout_followup_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.reason}"

    @property
    def audit_area(self):
        return self.commune
