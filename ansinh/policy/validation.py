"""Rules every policy value must satisfy, checked from the models' `clean()` (admin forms) and by
the services before they save:

- a `province` must be a province-level area;
- periods of the same value (same programme / category, condition, age bracket, key and province)
  must not overlap;
- a provincial value must not be lower than the national value in force on any day of its period
  (Decree 20/2021 Art. 4(3): provinces may set higher levels, never lower).
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level
from ansinh.core.money import format_vnd


def overlapping(start: date, end: date | None) -> Q:
    """Rows whose [effective_from, effective_to] intersects [start, end] (None = open)."""
    q = Q(effective_to__isnull=True) | Q(effective_to__gte=start)
    if end is not None:
        q &= Q(effective_from__lte=end)
    return q


def ages_intersect(a_from: int | None, a_to: int | None, b_from: int | None, b_to: int | None) -> bool:
    low = max(a_from or 0, b_from or 0)
    high = min(a_to if a_to is not None else 10_000, b_to if b_to is not None else 10_000)
    return low < high


def format_coefficient(value) -> str:
    """Decimal('2.500') -> '2,5' (Vietnamese decimal comma, no trailing zeros)."""
    return format(value.normalize(), "f").replace(".", ",")


def _check_province(obj) -> None:
    if obj.province_id is None:
        return
    level = Area.objects.filter(pk=obj.province_id).values_list("level", flat=True).first()
    if level != Level.PROVINCE:
        raise ValidationError({"province": _("Choose a province, not a lower administrative unit.")})


def _check_dates(obj) -> bool:
    if obj.effective_from is None:
        return False
    if obj.effective_to is not None and obj.effective_to < obj.effective_from:
        raise ValidationError({"effective_to": _("The end date must not be before the start date.")})
    return True


def _others(qs, obj):
    return qs.exclude(pk=obj.pk) if obj.pk else qs


def validate_standard_level(level) -> None:
    from .models import StandardLevel

    if not level.programme_id or level.amount is None or not _check_dates(level):
        return
    _check_province(level)
    period = overlapping(level.effective_from, level.effective_to)
    same = StandardLevel.objects.filter(period, programme_id=level.programme_id, province_id=level.province_id)
    clash = _others(same, level).order_by("effective_from").first()
    if clash is not None:
        raise ValidationError(
            _("This period overlaps the standard level in force %(period)s.") % {"period": clash.period_label()}
        )
    if level.province_id is None:
        return
    floor = (
        StandardLevel.objects.filter(
            period, programme_id=level.programme_id, province__isnull=True, amount__gt=level.amount
        )
        .order_by("effective_from")
        .first()
    )
    if floor is not None:
        raise ValidationError(
            {
                "amount": _(
                    "A province may not set a standard level lower than the national level: "
                    "%(national)s is in force %(period)s."
                )
                % {"national": format_vnd(floor.amount), "period": floor.period_label()}
            }
        )


def validate_coefficient_rule(rule) -> None:
    from .models import CoefficientRule

    if not rule.category_id or rule.value is None or not _check_dates(rule):
        return
    if rule.age_from is not None and rule.age_to is not None and rule.age_to <= rule.age_from:
        raise ValidationError({"age_to": _("The upper age must be above the lower age.")})
    _check_province(rule)
    period = overlapping(rule.effective_from, rule.effective_to)
    same = CoefficientRule.objects.filter(
        period,
        category_id=rule.category_id,
        province_id=rule.province_id,
        condition=rule.condition,
        age_from=rule.age_from,
        age_to=rule.age_to,
    )
    clash = _others(same, rule).order_by("effective_from").first()
    if clash is not None:
        raise ValidationError(
            _("This period overlaps the rule in force %(period)s for the same condition and age.")
            % {"period": clash.period_label()}
        )
    if rule.province_id is None:
        return
    national = CoefficientRule.objects.filter(
        period, category_id=rule.category_id, province__isnull=True, condition=rule.condition, value__gt=rule.value
    ).order_by("effective_from")
    for other in national:
        if ages_intersect(rule.age_from, rule.age_to, other.age_from, other.age_to):
            raise ValidationError(
                {
                    "value": _(
                        "A province may not set a coefficient lower than the national one: "
                        "%(national)s is in force %(period)s."
                    )
                    % {"national": format_coefficient(other.value), "period": other.period_label()}
                }
            )


def validate_fixed_amount(fixed) -> None:
    from .models import FixedAmount

    if not fixed.category_id or fixed.amount is None or not _check_dates(fixed):
        return
    _check_province(fixed)
    period = overlapping(fixed.effective_from, fixed.effective_to)
    same = FixedAmount.objects.filter(
        period, category_id=fixed.category_id, key=fixed.key, province_id=fixed.province_id
    )
    clash = _others(same, fixed).order_by("effective_from").first()
    if clash is not None:
        raise ValidationError(
            _("This period overlaps the amount in force %(period)s for the same key.")
            % {"period": clash.period_label()}
        )
    if fixed.province_id is None:
        return
    total = fixed.amount + (fixed.supplement or 0)
    for other in FixedAmount.objects.filter(
        period, category_id=fixed.category_id, key=fixed.key, province__isnull=True
    ).order_by("effective_from"):
        if other.total > total:
            raise ValidationError(
                {
                    "amount": _(
                        "A province may not set an amount lower than the national one: "
                        "%(national)s is in force %(period)s."
                    )
                    % {"national": format_vnd(other.total), "period": other.period_label()}
                }
            )
