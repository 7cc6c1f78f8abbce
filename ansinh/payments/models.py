"""How each beneficiary is paid: the payment method and the payee, each effective from a month
with its history, and the receiving accounts (numbers encrypted at rest, found by a keyed hash).

Rows of PaymentMethod and PayeeDesignation are never rewritten: a change is a new row from a
month; a planned change that a later one supersedes is cancelled (`cancelled_at`), not deleted."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InstitutionKind(models.TextChoices):
    BANK = "bank", _("Bank")
    WALLET = "wallet", _("E-wallet / Mobile Money")


class Institution(models.Model):
    """A bank or wallet provider from the maintained list (policy.yaml `banks`), editable by admins."""

    code = models.CharField(_("short code"), max_length=20, unique=True)
    bin = models.CharField(_("NAPAS BIN"), max_length=6)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=6, choices=InstitutionKind.choices, default=InstitutionKind.BANK)
    number_min_length = models.PositiveSmallIntegerField(_("shortest account number"), default=6)
    number_max_length = models.PositiveSmallIntegerField(_("longest account number"), default=19)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("bank or wallet")
        verbose_name_plural = _("banks and wallets")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Method(models.TextChoices):
    ACCOUNT = "account", _("Transfer to an account")
    PAY_POINT = "pay_point", _("Cash at a pay point")
    HOME = "home", _("Cash at home")


class CashReason(models.TextChoices):
    CHOICE = "choice", _("By choice")
    NO_ACCOUNT = "no_account", _("Cannot use an account")
    FRAIL = "frail", _("Special case: frail elderly")
    CANNOT_TRAVEL = "cannot_travel", _("Special case: cannot travel")
    NO_PHONE = "no_phone", _("Special case: no phone")
    NO_AUTHORISED = "no_authorised", _("Special case: no authorised person")


class FromMonth(models.Model):
    """A row of a history that takes effect from a month: never rewritten; cancelled
    (`cancelled_at`) when a later change supersedes it before it takes effect."""

    from_month = models.DateField(_("from month"))
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class PaymentMethod(FromMonth):
    """The payment method of a beneficiary from `from_month` until the next row's month."""

    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="payment_methods")
    method = models.CharField(_("payment method"), max_length=10, choices=Method.choices)
    cash_reason = models.CharField(_("reason for cash"), max_length=14, choices=CashReason.choices, blank=True)
    account = models.ForeignKey(
        "payments.ReceivingAccount",
        verbose_name=_("receiving account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["beneficiary", "-from_month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary", "from_month"],
                condition=Q(cancelled_at__isnull=True),
                name="payments_one_method_per_month",
            ),
            models.CheckConstraint(
                condition=Q(method="account", account__isnull=False, cash_reason="")
                | (~Q(method="account") & Q(account__isnull=True) & ~Q(cash_reason="")),
                name="payments_method_account_or_cash_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} ({self.from_month:%m/%Y})"


class PayeeDesignation(FromMonth):
    """Who receives the money from `from_month`: a representative, or (no representation) the
    beneficiary themself. The registry's `Representation.is_payee` marks the representative of
    the latest designation (services keep it in step)."""

    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="payee_designations")
    representation = models.ForeignKey(
        "registry.Representation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["beneficiary", "-from_month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary", "from_month"],
                condition=Q(cancelled_at__isnull=True),
                name="payments_one_payee_per_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary_id} ({self.from_month:%m/%Y})"


class AccountKind(models.TextChoices):
    BANK = "bank", _("Bank account")
    DIGITAL = "digital", _("Digital account")
    WALLET = "wallet", _("E-wallet / Mobile Money")


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")


ACCOUNT_TRANSITIONS: dict[str, set[str]] = {
    AccountStatus.PENDING: {AccountStatus.ACTIVE, AccountStatus.REJECTED, AccountStatus.CLOSED},
    AccountStatus.ACTIVE: {AccountStatus.CLOSED},
    AccountStatus.CLOSED: set(),
    AccountStatus.REJECTED: set(),
}


class ReceivingAccount(models.Model):
    """An account that receives a beneficiary's money. The number is stored only encrypted
    (`number_encrypted`, MultiFernet), with a keyed hash to find it and its last four digits to
    show it masked."""

    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="receiving_accounts")
    holder_representation = models.ForeignKey(
        "registry.Representation",
        verbose_name=_("held by (representative)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("account type"), max_length=8, choices=AccountKind.choices)
    institution = models.ForeignKey(Institution, verbose_name=_("bank or wallet"), on_delete=models.PROTECT)
    number_encrypted = models.TextField(editable=False)
    number_hash = models.CharField(max_length=64, editable=False, db_index=True)
    last4 = models.CharField(max_length=4, editable=False)
    holder_name = models.CharField(_("holder name (as the bank shows it)"), max_length=150)
    name_score = models.PositiveSmallIntegerField(_("name match score"), default=0)
    name_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name_confirmed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=AccountStatus.choices, default=AccountStatus.PENDING)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["beneficiary", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.institution.code} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return "•••• " + self.last4

    @property
    def audit_area(self):
        return self.beneficiary.audit_area

    def set_status(self, status: str) -> None:
        from django.core.exceptions import ValidationError

        if status not in ACCOUNT_TRANSITIONS[self.status]:
            raise ValidationError(_("This account cannot change to that status."))
        self.status = status


class ChangeStatus(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CHANGE_TRANSITIONS: dict[str, set[str]] = {
    ChangeStatus.AWAITING: {ChangeStatus.APPROVED, ChangeStatus.REJECTED, ChangeStatus.WITHDRAWN},
    ChangeStatus.APPROVED: set(),
    ChangeStatus.REJECTED: set(),
    ChangeStatus.WITHDRAWN: set(),
}


class AccountChange(models.Model):
    """A request to make `account` the one that receives the beneficiary's money from
    `from_month`: it takes effect only when a second user with payments.approve_account approves
    it with a TOTP code (ansinh.payments.approvals). `previous_account` is the account in effect
    when it was requested (none: paid in cash or not chosen yet)."""

    beneficiary = models.ForeignKey("registry.Beneficiary", on_delete=models.PROTECT, related_name="account_changes")
    account = models.ForeignKey(
        ReceivingAccount, verbose_name=_("new receiving account"), on_delete=models.PROTECT, related_name="changes"
    )
    previous_account = models.ForeignKey(
        ReceivingAccount,
        verbose_name=_("previous receiving account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_month = models.DateField(_("from month"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(_("status"), max_length=9, choices=ChangeStatus.choices, default=ChangeStatus.AWAITING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary"],
                condition=Q(status="awaiting"),
                name="payments_one_awaiting_change_per_beneficiary",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} ({self.from_month:%m/%Y})"

    @property
    def audit_area(self):
        return self.beneficiary.audit_area

    def set_status(self, status: str) -> None:
        from django.core.exceptions import ValidationError

        if status not in CHANGE_TRANSITIONS[self.status]:
            raise ValidationError(_("This change has already been decided."))
        self.status = status
