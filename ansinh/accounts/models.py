import hashlib
import secrets
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # not a column: the token an API request authenticated with (`ansinh.api.auth`), for the audit log
    api_token: "ApiToken | None"

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name() or self.username


class OrgKind(models.TextChoices):
    COMMUNE_COMMITTEE = "commune_committee", _("Commune People's Committee")
    APPROVING_OFFICE = "approving_office", _("Approving office")
    PROVIDER = "provider", _("Payment service provider")
    TREASURY = "treasury", _("State treasury")
    FINANCE_OFFICE = "finance_office", _("Finance office")
    PROVINCE_DEPARTMENT = "province_department", _("Province department")


class OrgUnit(models.Model):
    kind = models.CharField(_("kind"), max_length=30, choices=OrgKind.choices)
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("seat area"), on_delete=models.PROTECT, related_name="org_units"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["area__path", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["area", "kind", "name"], name="orgunit_unique_name")]

    def __str__(self) -> str:
        return self.name


class Function(models.TextChoices):
    APPRAISE = "appraise", _("Appraises changes")
    APPROVE = "approve", _("Approves the payroll")
    PAY = "pay", _("Pays (service provider)")
    FUND = "fund", _("Advances funds (treasury)")
    SETTLE = "settle", _("Receives settlement (finance)")
    MONITOR = "monitor", _("Monitors")


class Responsibility(models.Model):
    """Which unit performs a function for an area (and everything below it), over a period.
    This is configuration: after 2025 a commune office may approve what a district office did before."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="responsibilities")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="responsibilities")
    function = models.CharField(_("function"), max_length=20, choices=Function.choices)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        constraints = [
            models.UniqueConstraint(fields=["area", "function", "org_unit", "valid_from"], name="responsibility_unique")
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} — {self.get_function_display()} — {self.area}"


class RoleAssignmentQuerySet(models.QuerySet):
    def active(self, on: date | None = None):
        day = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True).filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        )


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("organisation unit"), null=True, blank=True, on_delete=models.PROTECT
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "area"],
                condition=Q(revoked_at__isnull=True),
                name="assignment_unique_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.area}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the raw value is shown once."""

    PREFIX = "ans_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"

    @classmethod
    def generate_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now) and self.user.is_active
