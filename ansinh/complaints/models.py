"""Complaints and feedback about payments (khiếu nại / phản ánh, issue 12 point 6).

A person lodges one online (the public site, no sign-in), by phone or at the counter (entered by
staff). It gets a reference (KN-2026-000123: complaint, PA-2026-000124: feedback; the number is
the row's, so it never repeats whatever the year), is routed to the commune or the payment
provider by its topic, carries a due date counted in working days (`deadlines`), and moves
lodged → in progress → resolved / rejected / withdrawn (`TRANSITIONS`). Staff link the payroll
lines and transfer exceptions it is about. Its history is the audit log (`complaints.*` actions,
`audit.services.history`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ansinh.core.errors import InvalidTransition
from ansinh.core.masking import mask_number


class Channel(models.TextChoices):
    ONLINE = "online", _("Online (public site)")
    PHONE = "phone", _("By phone")
    COUNTER = "counter", _("At the counter")


class Kind(models.TextChoices):
    COMPLAINT = "complaint", pgettext_lazy("complaint kind", "Complaint")
    FEEDBACK = "feedback", pgettext_lazy("complaint kind", "Feedback")


class Topic(models.TextChoices):
    NOT_PAID = "not_paid", _("Allowance not received")
    WRONG_AMOUNT = "wrong_amount", _("Wrong amount")
    CANNOT_WITHDRAW = "cannot_withdraw", _("Could not withdraw the money")
    PAY_POINT_SCHEDULE = "pay_point", _("Pay point or paying schedule")
    STAFF_CONDUCT = "staff_conduct", _("Conduct of the paying staff")
    REGISTRY_DATA = "registry_data", _("Personal or allowance data")
    OTHER = "other", _("Other")


class RoutedTo(models.TextChoices):
    COMMUNE = "commune", _("Commune People's Committee")
    PROVIDER = "provider", _("Payment service provider")


# What the provider does (withdrawals, its pay points and their days, its staff at the pay point)
# goes to the provider; what the commune decides or records (payment lists, amounts, the
# registry) and anything else goes to the commune.
ROUTE_BY_TOPIC: dict[str, str] = {
    Topic.NOT_PAID: RoutedTo.COMMUNE,
    Topic.WRONG_AMOUNT: RoutedTo.COMMUNE,
    Topic.CANNOT_WITHDRAW: RoutedTo.PROVIDER,
    Topic.PAY_POINT_SCHEDULE: RoutedTo.PROVIDER,
    Topic.STAFF_CONDUCT: RoutedTo.PROVIDER,
    Topic.REGISTRY_DATA: RoutedTo.COMMUNE,
    Topic.OTHER: RoutedTo.COMMUNE,
}


class State(models.TextChoices):
    LODGED = "lodged", _("Received, not yet handled")
    IN_PROGRESS = "in_progress", _("Being handled")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED = (State.RESOLVED, State.REJECTED, State.WITHDRAWN)
OPEN = (State.LODGED, State.IN_PROGRESS)

# A complaint answered on the spot (at the counter, on the phone) is resolved or rejected from
# "lodged" without passing "in progress"; a closed one is never reopened (a new complaint is).
TRANSITIONS: dict[str, frozenset[str]] = {
    State.LODGED: frozenset({State.IN_PROGRESS, State.RESOLVED, State.REJECTED, State.WITHDRAWN}),
    State.IN_PROGRESS: frozenset({State.RESOLVED, State.REJECTED, State.WITHDRAWN}),
    State.RESOLVED: frozenset(),
    State.REJECTED: frozenset(),
    State.WITHDRAWN: frozenset(),
}

PREFIX: dict[str, str] = {Kind.COMPLAINT: "KN", Kind.FEEDBACK: "PA"}

NAME_MAX = 100
TEXT_MAX = 2000
TEXT_MIN = 10
RESOLUTION_MAX = 4000


class Complaint(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    channel = models.CharField(_("received"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    text = models.TextField(_("content"), max_length=TEXT_MAX)
    # the person who lodged it (the beneficiary, a relative, a representative)
    name = models.CharField(_("name"), max_length=NAME_MAX)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    cccd = models.CharField(_("CCCD"), max_length=12, blank=True)
    beneficiary = models.ForeignKey(
        "registry.Beneficiary",
        verbose_name=_("beneficiary"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    commune = models.ForeignKey("areas.Area", verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False, db_index=True)
    routed_to = models.CharField(_("handled by"), max_length=10, choices=RoutedTo.choices)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"), db_index=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.LODGED)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.TextField(_("answer"), blank=True, max_length=RESOLUTION_MAX)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # online: a keyed hash of the sender's address (the rate limit), never the address itself
    client_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    lines = models.ManyToManyField(
        "payroll.PayrollLine", verbose_name=_("payroll lines"), blank=True, related_name="complaints"
    )
    exceptions = models.ManyToManyField(
        "disbursement.TransferException", verbose_name=_("transfer exceptions"), blank=True, related_name="complaints"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "due_on"], name="complaint_state_due")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=State.values), name="complaint_state"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="complaint_channel"),
            models.CheckConstraint(condition=Q(routed_to__in=RoutedTo.values), name="complaint_routed_to"),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("received_on")), name="complaint_due_after"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def audit_area(self):
        return self.commune

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    def is_overdue(self, today) -> bool:
        return self.is_open and self.due_on < today

    @property
    def masked_cccd(self) -> str:
        return mask_number(self.cccd)

    def may_become(self, state: str) -> bool:
        return state in TRANSITIONS.get(self.state, frozenset())

    def set_state(self, state: str) -> None:
        """Move to `state` if the map allows it (InvalidTransition otherwise); not saved."""
        if not self.may_become(state):
            raise InvalidTransition(
                _("A complaint that is “%(from)s” cannot become “%(to)s”.")
                % {"from": self.get_state_display(), "to": State(state).label}
            )
        self.state = state


class StatusCheck(models.Model):
    """A look-up of a complaint's status on the public site with a wrong reference or phone: the
    rate limit counts them per client and per reference (`services.check_status`)."""

    client_key = models.CharField(max_length=64, db_index=True)
    reference = models.CharField(max_length=20, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.reference
