"""Policy parameters: programmes, beneficiary categories and the effective-dated values that turn a
category into money (standard levels, coefficients, fixed amounts).

Every value is data with `effective_from`/`effective_to` (inclusive; `effective_to` empty = open),
a legal basis, a source and a confidence label. Rows with a `province` are that province's
overrides (a province may set higher values than the national ones, never lower); rows without
one are national. The rules that refuse lower provincial values and overlapping periods live in
`validation.py` and run from `clean()` (admin forms) and from the services.
"""

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Confidence(models.TextChoices):
    VERIFIED = "verified", _("Verified")
    PARTIAL = "partial", _("Partial")
    UNVERIFIED = "unverified", _("Unverified")


class Basis(models.TextChoices):
    COEFFICIENT = "coefficient", _("Standard level × coefficient")
    FIXED = "fixed", _("Fixed amount")


class Kind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly allowance")
    ONE_OFF = "one_off", _("One-off payment")


def _national_or_province(field: str = "province"):
    """The province id, or 0 for national rows: NULLs are distinct in unique indexes, 0 is not."""
    return Coalesce(F(field), Value(0), output_field=models.BigIntegerField())


def _valid_range(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
        name=f"{prefix}_valid_range",
        violation_error_message=_("The end date must not be before the start date."),
    )


PROVINCE_CHOICES = {"level": "province"}


class LocalizedNameMixin:
    name_vi: str
    name_en: str

    @property
    def name(self) -> str:
        """The name in the active language (Vietnamese unless English is active)."""
        lang = (get_language() or "vi").lower()
        if lang.startswith("en") and self.name_en:
            return self.name_en
        return self.name_vi or self.name_en


class Programme(LocalizedNameMixin, models.Model):
    code = models.CharField(_("code"), max_length=10, unique=True, help_text=_("e.g. BTXH, NCC, HTXH"))
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=255)
    name_en = models.CharField(_("name (English)"), max_length=255, blank=True)
    owner_note = models.TextField(_("owning agency"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Category(LocalizedNameMixin, models.Model):
    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="categories"
    )
    code = models.CharField(_("code"), max_length=60, unique=True, help_text=_("e.g. D20.5.6, NCC.g"))
    clause = models.CharField(_("clause"), max_length=60, blank=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=500)
    name_en = models.CharField(_("name (English)"), max_length=500, blank=True)
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Never shown in SMS, public lists or payment memos (e.g. HIV-related categories)."),
    )
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices, default=Basis.COEFFICIENT)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MONTHLY)
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True, help_text=_("Address or citation"))
    confidence = models.CharField(
        _("confidence"), max_length=20, choices=Confidence.choices, default=Confidence.UNVERIFIED
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class EffectiveDated(models.Model):
    """Common fields of an effective-dated value. Both ends inclusive; an empty end is open."""

    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    province = models.ForeignKey(
        "areas.Area",
        verbose_name=_("province"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=PROVINCE_CHOICES,
        help_text=_("Empty for the national value; a province for that province's (higher) value."),
    )
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True, help_text=_("Address or citation"))
    confidence = models.CharField(
        _("confidence"), max_length=20, choices=Confidence.choices, default=Confidence.UNVERIFIED
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True

    @property
    def audit_area(self):
        return self.province

    def in_force_on(self, day) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def period_label(self) -> str:
        end = self.effective_to.isoformat() if self.effective_to else "…"
        return f"{self.effective_from.isoformat()} – {end}"


class StandardLevel(EffectiveDated):
    """A programme's standard level (mức chuẩn) in whole đồng per month."""

    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="standard_levels"
    )
    amount = models.BigIntegerField(_("amount (đồng)"))

    class Meta:
        verbose_name = _("standard level")
        verbose_name_plural = _("standard levels")
        ordering = ["programme__code", "province_id", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="policy_standardlevel_amount_positive",
                violation_error_message=_("The amount must be positive."),
            ),
            _valid_range("policy_standardlevel"),
            models.UniqueConstraint(
                F("programme"),
                _national_or_province(),
                F("effective_from"),
                name="policy_standardlevel_unique_start",
                violation_error_message=_("A standard level starting on this day already exists."),
            ),
        ]

    def __str__(self) -> str:
        where = self.province.name if self.province is not None else _("national")
        return f"{self.programme.code} {where} {self.period_label()}: {self.amount:,}".replace(",", ".")

    def clean(self):
        from .validation import validate_standard_level

        validate_standard_level(self)


class CoefficientRule(EffectiveDated):
    """A coefficient (hệ số) for a category, optionally limited to an age bracket and a condition.

    Age is in whole years; `age_from` inclusive, `age_to` exclusive. `condition` is a key the claim
    must carry to select the rule (e.g. "extremely_severe:child_or_elderly"); empty matches claims
    without a condition. With `per_unit` set (e.g. "child_being_raised") the amount is multiplied
    by the claim's number of units."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="coefficient_rules"
    )
    value = models.DecimalField(_("coefficient"), max_digits=7, decimal_places=3)
    age_from = models.PositiveSmallIntegerField(_("from age (years, inclusive)"), null=True, blank=True)
    age_to = models.PositiveSmallIntegerField(_("to age (years, exclusive)"), null=True, blank=True)
    condition = models.CharField(_("condition"), max_length=100, blank=True)
    per_unit = models.CharField(
        _("per unit"), max_length=60, blank=True, help_text=_("e.g. child_being_raised: multiplied per unit")
    )

    class Meta:
        verbose_name = _("coefficient rule")
        verbose_name_plural = _("coefficient rules")
        ordering = ["category__code", "province_id", "condition", "age_from", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gt=0),
                name="policy_coefficientrule_value_positive",
                violation_error_message=_("The coefficient must be positive."),
            ),
            _valid_range("policy_coefficientrule"),
            models.CheckConstraint(
                condition=Q(age_from__isnull=True) | Q(age_to__isnull=True) | Q(age_to__gt=F("age_from")),
                name="policy_coefficientrule_age_range",
                violation_error_message=_("The upper age must be above the lower age."),
            ),
            models.UniqueConstraint(
                F("category"),
                _national_or_province(),
                F("condition"),
                Coalesce(F("age_from"), Value(-1), output_field=models.IntegerField()),
                F("effective_from"),
                name="policy_coefficientrule_unique_start",
                violation_error_message=_(
                    "A rule for this category, condition and age starting on this day already exists."
                ),
            ),
        ]

    def __str__(self) -> str:
        parts = [self.category.code, str(self.value)]
        if self.condition:
            parts.append(self.condition)
        if self.age_from is not None or self.age_to is not None:
            parts.append(f"age {self.age_from if self.age_from is not None else 0}–{self.age_to or ''}")
        if self.province is not None:
            parts.append(self.province.name)
        parts.append(self.period_label())
        return " ".join(parts)

    def clean(self):
        from .validation import validate_coefficient_rule

        validate_coefficient_rule(self)


class FixedAmount(EffectiveDated):
    """A fixed monthly amount for a sub-case of a category (e.g. NCC relative of one martyr),
    with an optional supplement paid on top (e.g. the Heroic Mother's allowance)."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="fixed_amounts"
    )
    key = models.CharField(_("key"), max_length=100, help_text=_("e.g. relative_of_1_martyr"))
    amount = models.BigIntegerField(_("amount (đồng)"))
    supplement = models.BigIntegerField(_("supplement (đồng)"), default=0)

    class Meta:
        verbose_name = _("fixed amount")
        verbose_name_plural = _("fixed amounts")
        ordering = ["category__code", "key", "province_id", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="policy_fixedamount_amount_positive",
                violation_error_message=_("The amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(supplement__gte=0),
                name="policy_fixedamount_supplement_not_negative",
                violation_error_message=_("The supplement must not be negative."),
            ),
            _valid_range("policy_fixedamount"),
            models.UniqueConstraint(
                F("category"),
                F("key"),
                _national_or_province(),
                F("effective_from"),
                name="policy_fixedamount_unique_start",
                violation_error_message=_("An amount for this key starting on this day already exists."),
            ),
        ]

    def __str__(self) -> str:
        where = f" {self.province.name}" if self.province is not None else ""
        return f"{self.category.code} {self.key}{where} {self.period_label()}"

    @property
    def total(self) -> int:
        return self.amount + self.supplement

    def clean(self):
        from .validation import validate_fixed_amount

        validate_fixed_amount(self)
