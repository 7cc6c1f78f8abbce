"""What a beneficiary is entitled to for a month, computed from the effective-dated policy data.

`monthly_entitlement` answers for one person (three queries). For a payroll run, load the month
once with `PolicyMonth.load(month)` (three queries for every province) and call
`policy_month.table(province).entitlement(claims, birth_date)` per person: pure in-memory work,
no query per person, with repeated (claims, age) combinations answered from a memo.

Rules applied (policy-facts §1.2, §2):

- the month is its first day; the age is in whole years on that day, so a change of age bracket
  takes effect in the month after the birthday, or in the birthday's month when it is the 1st;
- standard level = the programme's national level in force that day, replaced by the province's
  level when one is in force and higher;
- coefficient = the highest rule of the category in force that day whose condition equals the
  claim's and whose age bracket holds the age (national or the province's; a provincial rule is
  never lower than the national one, and if it were, the national one would still win here);
- amount = `multiply(standard level, coefficient)` (× units for per-unit rules such as D20.5.4),
  or the fixed amount + supplement for fixed-basis categories (NCC), the province's if higher;
- of several claims, only the single highest amount is paid (ties: lowest category code).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ansinh.areas.models import Area, Level
from ansinh.core.money import format_vnd, multiply

from .labels import fixed_key_label, unit_label
from .models import Basis, CoefficientRule, FixedAmount, Kind, StandardLevel
from .validation import format_coefficient


@dataclass(frozen=True)
class Claim:
    category_code: str
    condition: str = ""  # selects among coefficient rules, e.g. "severe:adult"
    units: int = 1  # e.g. children being raised (D20.5.4)
    fixed_key: str = ""  # NCC fixed-amount key

    def __post_init__(self):
        if not isinstance(self.units, int) or isinstance(self.units, bool) or self.units < 0:
            raise ValueError("units must be a whole number ≥ 0")


@dataclass(frozen=True)
class Entitlement:
    amount: int  # whole đồng per month
    category_code: str
    coefficient: Decimal | None
    standard_level: int | None
    fixed_key: str
    explanation: str  # e.g. "500.000 ₫ × 2,5" — user-facing, translated (no internal key)
    sensitive: bool = False  # HIV-related: never in SMS, public lists or payment memos


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    programme: str
    basis: str
    kind: str
    sensitive: bool


@dataclass(frozen=True)
class RuleRow:
    category: str
    value: Decimal
    condition: str = ""
    age_from: int | None = None
    age_to: int | None = None
    per_unit: str = ""
    provincial: bool = False

    def matches(self, condition: str, age: int | None) -> bool:
        if condition != self.condition:
            return False
        if self.age_from is None and self.age_to is None:
            return True
        if age is None:
            return False
        return (self.age_from is None or age >= self.age_from) and (self.age_to is None or age < self.age_to)


@dataclass(frozen=True)
class FixedRow:
    category: str
    key: str
    amount: int
    supplement: int = 0
    provincial: bool = False

    @property
    def total(self) -> int:
        return self.amount + self.supplement


def month_start(day: date) -> date:
    return day.replace(day=1)


def age_in_years(birth_date: date | None, day: date) -> int | None:
    """Whole years completed on `day` (a 29 February birthday counts as passed on 1 March)."""
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def province_id_of(area: Area | int | None) -> int | None:
    """The province of any area, without a query (the root of its materialised path)."""
    if area is None or isinstance(area, int):
        return area
    if area.level == Level.PROVINCE:
        return area.pk
    ids = area.ancestor_ids()
    return ids[0] if ids else area.province.pk


def _best(results: Iterable[Entitlement]) -> Entitlement | None:
    return min(
        results,
        key=lambda e: (-e.amount, e.category_code, e.fixed_key, e.explanation),
        default=None,
    )


class PolicyTable:
    """The policy in force on one day for one province (or nationally), held in memory."""

    MEMO_LIMIT = 50_000

    def __init__(
        self,
        *,
        day: date,
        categories: Mapping[str, CategoryInfo],
        national_levels: Mapping[str, int],
        provincial_levels: Mapping[str, int] | None = None,
        rules: Iterable[RuleRow] = (),
        fixed: Iterable[FixedRow] = (),
    ):
        self.day = day
        self.categories = dict(categories)
        self.national_levels = dict(national_levels)
        self.provincial_levels = dict(provincial_levels or {})
        self.levels = dict(self.national_levels)
        for programme, amount in self.provincial_levels.items():
            if amount > self.levels.get(programme, 0):
                self.levels[programme] = amount
        self.rules = tuple(rules)
        self.fixed = tuple(fixed)
        self._rules: dict[str, list[RuleRow]] = defaultdict(list)
        for rule in self.rules:
            self._rules[rule.category].append(rule)
        self._fixed: dict[tuple[str, str], list[FixedRow]] = defaultdict(list)
        for row in self.fixed:
            self._fixed[(row.category, row.key)].append(row)
        self._memo: dict = {}

    @classmethod
    def for_month(cls, month: date, province: Area | int | None = None) -> PolicyTable:
        """The table for `month` and `province` (any area; its province is used). Three queries."""
        return PolicyMonth.load(month, provinces=[province]).table(province)

    def standard_level(self, programme: str) -> int | None:
        return self.levels.get(programme)

    def evaluate(self, claim: Claim, age: int | None, kinds: tuple[str, ...] = (Kind.MONTHLY,)) -> Entitlement | None:
        """One claim on its own; None when no rule is in force for it (or its kind is not asked)."""
        info = self.categories.get(claim.category_code)
        if info is None or info.kind not in kinds:
            return None
        if info.basis == Basis.FIXED:
            return self._fixed_amount(info, claim)
        return self._coefficient_amount(info, claim, age)

    def _coefficient_amount(self, info: CategoryInfo, claim: Claim, age: int | None) -> Entitlement | None:
        level = self.levels.get(info.programme)
        rules = [r for r in self._rules.get(info.code, ()) if r.matches(claim.condition, age)]
        if level is None or not rules:
            return None
        rule = max(rules, key=lambda r: (r.value, r.provincial))
        values = {"level": format_vnd(level), "coefficient": format_coefficient(rule.value)}
        if rule.per_unit:
            units = claim.units
            explanation = _("%(level)s × %(coefficient)s × %(units)s %(counted)s") % {
                **values,
                "units": units,
                "counted": unit_label(rule.per_unit),
            }
        else:
            units = 1
            explanation = _("%(level)s × %(coefficient)s") % values
        return Entitlement(
            amount=multiply(level, rule.value) * units,
            category_code=info.code,
            coefficient=rule.value,
            standard_level=level,
            fixed_key="",
            explanation=explanation,
            sensitive=info.sensitive,
        )

    def _fixed_amount(self, info: CategoryInfo, claim: Claim) -> Entitlement | None:
        rows = self._fixed.get((info.code, claim.fixed_key))
        if not rows:
            return None
        row = max(rows, key=lambda r: (r.total, r.provincial))
        values = {"amount": format_vnd(row.amount), "key": fixed_key_label(row.key)}
        if row.supplement:
            explanation = _("%(amount)s + %(supplement)s (%(key)s)") % {
                **values,
                "supplement": format_vnd(row.supplement),
            }
        else:
            explanation = _("%(amount)s (%(key)s)") % values
        return Entitlement(
            amount=row.total,
            category_code=info.code,
            coefficient=None,
            standard_level=None,
            fixed_key=row.key,
            explanation=explanation,
            sensitive=info.sensitive,
        )

    def entitlement(self, claims: Sequence[Claim], birth_date: date | None) -> Entitlement | None:
        """The single highest monthly amount among `claims`; None when none has a rule in force."""
        age = age_in_years(birth_date, self.day)
        key = (tuple(claims), age, get_language())
        try:
            return self._memo[key]
        except KeyError:
            pass
        result = _best(e for e in (self.evaluate(c, age) for c in claims) if e is not None)
        if len(self._memo) >= self.MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = result
        return result

    def one_off(self, claim: Claim, birth_date: date | None) -> Entitlement | None:
        """A one-off payment (funeral support, convalescence) on this table's day."""
        return self.evaluate(claim, age_in_years(birth_date, self.day), kinds=(Kind.ONE_OFF,))


def _in_force(day: date) -> Q:
    return Q(effective_from__lte=day) & (Q(effective_to__isnull=True) | Q(effective_to__gte=day))


class PolicyMonth:
    """Every standard level, rule and fixed amount in force on one day, national and provincial,
    loaded in three queries; `table(province)` builds (and keeps) each province's PolicyTable."""

    def __init__(self, day: date):
        self.day = day
        self.categories: dict[str, CategoryInfo] = {}
        self.levels: dict[int | None, dict[str, int]] = defaultdict(dict)
        self.rules: dict[int | None, list[RuleRow]] = defaultdict(list)
        self.fixed: dict[int | None, list[FixedRow]] = defaultdict(list)
        self._tables: dict[int | None, PolicyTable] = {}

    @classmethod
    def load(cls, month: date, provinces: Iterable[Area | int | None] | None = None) -> PolicyMonth:
        """Load the policy for `month` (its first day). `provinces` limits the provincial rows
        loaded (national rows always are); None loads every province."""
        return cls.on(month_start(month), provinces)

    @classmethod
    def on(cls, day: date, provinces: Iterable[Area | int | None] | None = None) -> PolicyMonth:
        """Load the policy in force on exactly `day` (for one-off payments)."""
        self = cls(day)
        where = _in_force(self.day)
        if provinces is not None:
            ids = [pid for pid in (province_id_of(p) for p in provinces) if pid is not None]
            where &= Q(province__isnull=True) | Q(province_id__in=ids)
        for programme, province_id, amount in StandardLevel.objects.filter(where).values_list(
            "programme__code", "province_id", "amount"
        ):
            self.levels[province_id][programme] = amount
        category_fields = (
            "category__code",
            "category__programme__code",
            "category__basis",
            "category__kind",
            "category__sensitive",
        )
        for row in CoefficientRule.objects.filter(where).values_list(
            *category_fields, "province_id", "value", "condition", "age_from", "age_to", "per_unit"
        ):
            info = self._category(row[:5])
            province_id, value, condition, age_from, age_to, per_unit = row[5:]
            self.rules[province_id].append(
                RuleRow(info.code, value, condition, age_from, age_to, per_unit, provincial=province_id is not None)
            )
        for row in FixedAmount.objects.filter(where).values_list(
            *category_fields, "province_id", "key", "amount", "supplement"
        ):
            info = self._category(row[:5])
            province_id, key, amount, supplement = row[5:]
            self.fixed[province_id].append(
                FixedRow(info.code, key, amount, supplement, provincial=province_id is not None)
            )
        return self

    def _category(self, row) -> CategoryInfo:
        code = row[0]
        info = self.categories.get(code)
        if info is None:
            info = self.categories[code] = CategoryInfo(*row)
        return info

    def table(self, province: Area | int | None = None) -> PolicyTable:
        pid = province_id_of(province)
        table = self._tables.get(pid)
        if table is None:
            table = self._tables[pid] = PolicyTable(
                day=self.day,
                categories=self.categories,
                national_levels=self.levels.get(None, {}),
                provincial_levels=self.levels.get(pid, {}) if pid is not None else {},
                rules=[*self.rules.get(None, ()), *(self.rules.get(pid, ()) if pid is not None else ())],
                fixed=[*self.fixed.get(None, ()), *(self.fixed.get(pid, ()) if pid is not None else ())],
            )
        return table


def monthly_entitlement(
    *, claims: Sequence[Claim], month: date, birth_date: date | None, province: Area | None
) -> Entitlement | None:
    """The monthly amount a beneficiary is entitled to for `month`.

    `month` is normalised to its first day, and the age used for age brackets is the number of
    whole years completed on that first day (so a child turning 4 on 15 July is 3 for July and 4
    from August; one born on 1 July is 4 already in July). `province` may be any area; its
    province's overrides apply. Only the single highest of the claims is returned (ties: lowest
    category code); claims without a rule in force that month contribute nothing; no claims, or
    nothing in force, gives None. Monthly categories only (funeral support and convalescence are
    one-off: see `one_off_entitlement`). Three queries; for many people use `PolicyMonth`.

    All claims are compared with each other, whatever their programme: pass only the claims that
    exclude each other (e.g. Decree-20 categories and the social pension), and call once per
    programme where the law lets allowances add up.
    """
    if not claims:
        return None
    return PolicyTable.for_month(month, province).entitlement(claims, birth_date)


def one_off_entitlement(
    *, claim: Claim, day: date, birth_date: date | None, province: Area | None
) -> Entitlement | None:
    """A one-off payment (FUNERAL.*, NCC.convalescence) at the policy in force on `day` (e.g. the
    day of death), the age counted on that day."""
    return PolicyMonth.on(day, provinces=[province]).table(province).one_off(claim, birth_date)
