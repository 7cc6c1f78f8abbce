"""Writes to policy data. Each runs in one transaction and writes its audit events in it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.audit.services import record, snapshot

from .loader import PolicyData, parse_policy
from .models import Category, CoefficientRule, FixedAmount, Programme, StandardLevel

# Natural keys (as attribute names) under which the loader matches file rows to database rows.
NATURAL_KEYS: dict[type[models.Model], tuple[str, ...]] = {
    Programme: ("code",),
    Category: ("code",),
    StandardLevel: ("programme_id", "province_id", "effective_from"),
    CoefficientRule: ("category_id", "province_id", "condition", "age_from", "effective_from"),
    FixedAmount: ("category_id", "key", "province_id", "effective_from"),
}

COUNT_KEYS = ("created", "updated", "unchanged", "differs")

# Model → the name used in audit actions (`policy.<name>.<verb>`).
AUDIT_NAMES: dict[type[models.Model], str] = {
    Programme: "programme",
    Category: "category",
    StandardLevel: "standard_level",
    CoefficientRule: "coefficient_rule",
    FixedAmount: "fixed_amount",
}


def _action(obj: models.Model, verb: str) -> str:
    return f"policy.{AUDIT_NAMES.get(type(obj), obj._meta.model_name)}.{verb}"


# --- who may change policy -----------------------------------------------------------------------


def province_of(obj: models.Model) -> Area | None:
    """The province a policy row belongs to; None for national rows, programmes and categories."""
    return getattr(obj, "province", None) if hasattr(obj, "province_id") else None


def can_manage(actor, province: Area | None) -> bool:
    """A province's values: a user with `policy.manage` in that province. National values,
    programmes and categories: global administrators only. The system (`actor=None`: the
    policy file loader, commands) may change everything."""
    if actor is None:
        return True
    if province is None:
        return access.is_global(actor)
    return access.can_in_area(actor, Cap.POLICY_MANAGE, province)


def _require_manage(actor, province: Area | None) -> None:
    if not can_manage(actor, province):
        raise PermissionDenied(_("You may not change the policy values of this province."))


# --- loading the policy file -------------------------------------------------------------------


@transaction.atomic
def load_policy(*, actor, path: Path | str | None = None, overwrite: bool = False) -> dict[str, dict[str, int]]:
    """Load the policy YAML (default `settings.ANSINH_POLICY_FILE`), matching rows by natural key.

    Missing rows are created. A row whose values already equal the file's is `unchanged`. A row
    that differs (e.g. edited by an administrator, or a period closed when a new level was set)
    is kept and counted as `differs`, unless `overwrite=True`, which sets the file's values and
    audits each change as `policy.<model>.changed`. Rows not in the file are never touched.
    Re-running on the same file therefore changes nothing. One summary audit event
    `policy.loaded` carries the file name, its SHA-256 and the counts.

    Returns {"programmes": {"created": n, "updated": n, "unchanged": n, "differs": n}, ...}.
    """
    path = Path(path or settings.ANSINH_POLICY_FILE)
    data = parse_policy(path)
    counts: dict[str, dict[str, int]] = {}
    counts["programmes"] = _sync(actor, Programme, data.programmes, {}, overwrite)
    programme_ids = dict(Programme.objects.values_list("code", "pk"))
    counts["categories"] = _sync(actor, Category, data.categories, {"programme": programme_ids}, overwrite)
    category_ids = dict(Category.objects.values_list("code", "pk"))
    counts["standard_levels"] = _sync(
        actor, StandardLevel, data.standard_levels, {"programme": programme_ids}, overwrite
    )
    counts["coefficient_rules"] = _sync(
        actor, CoefficientRule, data.coefficient_rules, {"category": category_ids}, overwrite
    )
    counts["fixed_amounts"] = _sync(actor, FixedAmount, data.fixed_amounts, {"category": category_ids}, overwrite)
    record(actor=actor, action="policy.loaded", after=_summary(data, counts, overwrite))
    return counts


def _summary(data: PolicyData, counts: dict, overwrite: bool) -> dict:
    return {"file": str(data.path), "sha256": data.sha256, "overwrite": overwrite, "counts": counts}


def _resolve(spec: dict, lookups: dict[str, dict[str, int]]) -> dict:
    out = {}
    for name, value in spec.items():
        if name in lookups:
            if value not in lookups[name]:
                raise ValidationError(
                    _("The policy file refers to an unknown %(field)s: %(value)s.") % {"field": name, "value": value}
                )
            out[f"{name}_id"] = lookups[name][value]
        elif name == "province":
            out["province_id"] = value.pk if isinstance(value, Area) else value
        else:
            out[name] = value
    return out


def _sync(actor, model, specs, lookups, overwrite: bool) -> dict[str, int]:
    natural = NATURAL_KEYS[model]
    existing = {tuple(getattr(obj, f) for f in natural): obj for obj in model.objects.all()}
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for key, values in specs:
        fields = _resolve({**key, **values}, lookups)
        obj = existing.get(tuple(fields[f] for f in natural))
        if obj is None:
            obj = model(**fields)
            # Field checks and the overlap / provincial-floor rules of clean(); the database's own
            # constraints (uniqueness, positive amounts, date ranges) guard the rest at save().
            obj.full_clean(validate_unique=False, validate_constraints=False)
            obj.save()
            existing[tuple(fields[f] for f in natural)] = obj
            counts["created"] += 1
            continue
        diffs = {name: value for name, value in fields.items() if getattr(obj, name) != value}
        if not diffs:
            counts["unchanged"] += 1
        elif overwrite:
            before = snapshot(obj)
            for name, value in diffs.items():
                setattr(obj, name, value)
            obj.full_clean()
            obj.save()
            record(actor=actor, action=_action(obj, "changed"), obj=obj, before=before, after=snapshot(obj))
            counts["updated"] += 1
        else:
            counts["differs"] += 1
    return counts


# --- setting values ----------------------------------------------------------------------------


def _programme(programme: Programme | str) -> Programme:
    if isinstance(programme, Programme):
        return programme
    try:
        return Programme.objects.get(code=programme)
    except Programme.DoesNotExist:
        raise ValidationError(_("Unknown programme %(code)s.") % {"code": programme}) from None


def _category(category: Category | str) -> Category:
    if isinstance(category, Category):
        return category
    try:
        return Category.objects.select_related("programme").get(code=category)
    except Category.DoesNotExist:
        raise ValidationError(_("Unknown category %(code)s.") % {"code": category}) from None


def _close_open_period(actor, previous, start: date) -> None:
    """End `previous` (an open period) on the day before `start`, audited."""
    before = snapshot(previous)
    previous.effective_to = start - timedelta(days=1)
    previous.full_clean()
    previous.save(update_fields=["effective_to"])
    record(
        actor=actor,
        action=_action(previous, "closed"),
        obj=previous,
        area=previous.province,
        before=before,
        after=snapshot(previous),
    )


@transaction.atomic
def set_standard_level(
    *,
    actor,
    programme: Programme | str,
    amount: int,
    effective_from: date,
    effective_to: date | None = None,
    province: Area | None = None,
    legal_basis: str,
    source: str,
    confidence: str,
) -> StandardLevel:
    """Set a programme's standard level from `effective_from` (national, or for `province`).

    The open period of the same series (programme + province) that started earlier is closed on
    the day before (`policy.standard_level.closed`). A provincial level lower than the national level
    in force on any day of its period is refused (ValidationError), as is any overlap with
    another period of the same series. Audited as `policy.standard_level.set`."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("amount must be whole đồng (int)")
    _require_manage(actor, province)
    programme = _programme(programme)
    series = StandardLevel.objects.select_for_update().filter(programme=programme, province=province)
    previous = series.filter(effective_to__isnull=True, effective_from__lt=effective_from).first()
    if previous is not None:
        _close_open_period(actor, previous, effective_from)
    level = StandardLevel(
        programme=programme,
        province=province,
        amount=amount,
        effective_from=effective_from,
        effective_to=effective_to,
        legal_basis=legal_basis,
        source=source,
        confidence=confidence,
    )
    level.full_clean()
    level.save()
    record(actor=actor, action="policy.standard_level.set", obj=level, area=province, after=snapshot(level))
    return level


@transaction.atomic
def set_coefficient_override(
    *,
    actor,
    category: Category | str,
    province: Area,
    value: Decimal,
    effective_from: date,
    effective_to: date | None = None,
    condition: str = "",
    age_from: int | None = None,
    age_to: int | None = None,
    legal_basis: str = "",
    source: str,
    confidence: str,
) -> CoefficientRule:
    """Set a province's coefficient for a category (and condition / age bracket) from
    `effective_from`. Refused (ValidationError) when lower than a national rule of the same
    category and condition, for an overlapping age bracket, in force on any day of the period.
    The province's earlier open rule with the same key is closed on the day before.
    `per_unit` follows the national rule. Audited as `policy.coefficient_rule.set`."""
    if province is None:
        raise ValidationError(_("A coefficient override needs a province."))
    if not isinstance(value, Decimal):
        raise TypeError("coefficients must be Decimal")
    _require_manage(actor, province)
    category = _category(category)
    national = (
        CoefficientRule.objects.filter(category=category, province__isnull=True, condition=condition)
        .order_by("-effective_from")
        .first()
    )
    series = CoefficientRule.objects.select_for_update().filter(
        category=category, province=province, condition=condition, age_from=age_from, age_to=age_to
    )
    previous = series.filter(effective_to__isnull=True, effective_from__lt=effective_from).first()
    if previous is not None:
        _close_open_period(actor, previous, effective_from)
    rule = CoefficientRule(
        category=category,
        province=province,
        value=value,
        condition=condition,
        age_from=age_from,
        age_to=age_to,
        per_unit=national.per_unit if national else "",
        effective_from=effective_from,
        effective_to=effective_to,
        legal_basis=legal_basis,
        source=source,
        confidence=confidence,
    )
    rule.full_clean()
    rule.save()
    record(actor=actor, action="policy.coefficient_rule.set", obj=rule, area=province, after=snapshot(rule))
    return rule


# --- audited edits from the admin --------------------------------------------------------------


@transaction.atomic
def save_audited(*, actor, obj: models.Model) -> models.Model:
    """Save an edited (or new) policy object and audit it as `policy.<model>.changed`. The actor
    must be allowed to manage both the province the row was in and the one it is in now."""
    before = None
    if obj.pk is not None:
        current = type(obj).objects.select_for_update().filter(pk=obj.pk).first()
        if current is not None:
            _require_manage(actor, province_of(current))
        before = snapshot(current) if current is not None else None
    _require_manage(actor, province_of(obj))
    obj.save()
    record(actor=actor, action=_action(obj, "changed"), obj=obj, before=before, after=snapshot(obj))
    return obj


@transaction.atomic
def delete_audited(*, actor, obj: models.Model) -> None:
    """Delete a policy object and audit it as `policy.<model>.changed` (after = empty)."""
    current = type(obj).objects.select_for_update().filter(pk=obj.pk).first() or obj
    _require_manage(actor, province_of(current))
    before = snapshot(obj)
    record(actor=actor, action=_action(obj, "changed"), obj=obj, before=before, after=None, note="deleted")
    obj.delete()
