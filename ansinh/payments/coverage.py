"""Coverage of receiving accounts (the Hoằng Phong plan, I.1.d; the KPIs of report 3010): per
commune, per approving office and per province, of the beneficiaries receiving an allowance,

- how many hold an active receiving account, and their share against the target (30% by the
  end of 2024 in the plan; `settings.ANSINH_ACCOUNT_COVERAGE_TARGET`, in percent);
- how many of those account holders are paid through an account this month (the method in
  effect is a transfer), and that share (the plan's 100%);
- how many are on the registration lists (`registration_lists.registering`), per programme.

Counted set-based: one grouped query over the beneficiaries in the user's scope (EXISTS
clauses on the accounts, payment methods and categories), one for the communes' names, one for
the approving offices; the offices' and provinces' figures and the totals are sums of the
communes' rows, never typed."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.models import Function, Responsibility
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.core.text import format_number
from ansinh.registry.models import Status
from ansinh.registry.queries import beneficiaries_for

from .models import AccountStatus, Method
from .registration_lists import KINDS, has_account, in_programmes, method_in_effect, registering, this_month


def coverage_target() -> Decimal:
    """The target share of beneficiaries with an account, in percent (default 30)."""
    return Decimal(str(getattr(settings, "ANSINH_ACCOUNT_COVERAGE_TARGET", 30)))


def target_label(target: Decimal) -> str:
    """The target as Vietnamese write it: '30%', '32,5%'."""
    return format_number(float(target), 0 if target == target.to_integral() else 1) + "%"


def share(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent with one decimal; None when there is no one to count."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    active: int = 0  # beneficiaries receiving an allowance
    with_account: int = 0  # … holding an active receiving account
    paid_by_account: int = 0  # … of whom the payment method in effect is a transfer
    registering_ncc: int = 0  # on the registration list of people with meritorious services
    registering_btxh: int = 0  # on the social-assistance registration list

    def __iadd__(self, other: Figures) -> Figures:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def without_account(self) -> int:
        return self.active - self.with_account

    @property
    def account_share(self) -> Decimal | None:
        return share(self.with_account, self.active)

    @property
    def paid_share(self) -> Decimal | None:
        return share(self.paid_by_account, self.with_account)

    def meets(self, target: Decimal) -> bool | None:
        value = self.account_share
        return None if value is None else value >= target


@dataclass
class Unit:
    """One row of a table: a commune, an office or a province, with its figures."""

    key: str
    name: str
    figures: Figures = field(default_factory=Figures)
    parent_name: str = ""
    area_id: int | None = None  # the area the lists of the row are filtered on (None: no link)


@dataclass
class Report:
    month: date
    target: Decimal
    communes: list[Unit]
    offices: list[Unit]
    provinces: list[Unit]
    total: Figures

    @property
    def single(self) -> bool:
        return len(self.communes) == 1

    @property
    def target_label(self) -> str:
        return target_label(self.target)


def _figures(qs, month: date, *, lists: bool = True) -> dict[int, Figures]:
    """Figures per commune id; without `lists`, the registration lists' counts are left at 0
    (the dashboard's block, which does not show them)."""
    active_account = Q(has_account([AccountStatus.ACTIVE]))
    counts = {
        "active": Count("id"),
        "with_account": Count("id", filter=active_account),
        "paid_by_account": Count("id", filter=active_account & Q(method_in_effect(Method.ACCOUNT, month))),
    }
    if lists:
        for name, slug in (("registering_ncc", "ncc"), ("registering_btxh", "btxh")):
            counts[name] = Count("id", filter=registering(month) & Q(in_programmes(KINDS[slug].programmes)))
    rows = qs.filter(status=Status.ACTIVE).order_by().values("commune_id").annotate(**counts)
    return {row.pop("commune_id"): Figures(**row) for row in rows}


def total_of(user, month: date | None = None) -> Figures:
    """The figures of all the user's areas, without the registration lists' counts, in one
    aggregate query (the dashboard's block)."""
    month = month or this_month()
    active_account = Q(has_account([AccountStatus.ACTIVE]))
    row = (
        beneficiaries_for(user, Cap.REGISTRY_VIEW)
        .filter(status=Status.ACTIVE)
        .aggregate(
            active=Count("id"),
            with_account=Count("id", filter=active_account),
            paid_by_account=Count("id", filter=active_account & Q(method_in_effect(Method.ACCOUNT, month))),
        )
    )
    return Figures(**row)


def _offices(communes: list[Area], day: date) -> dict[int, tuple[str, str]]:
    """commune id → (key, name) of the office that approves its payroll: the unit responsible
    for the nearest area above (or at) the commune (accounts.Responsibility, function approve);
    without one, the unit above the commune (a pre-2025 district), else none."""
    valid = (Q(valid_from__isnull=True) | Q(valid_from__lte=day)) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))
    ancestors = {int(p) for c in communes for p in c.path.strip("/").split("/") if p}
    by_area: dict[int, tuple[str, str]] = {}
    responsibilities = (
        Responsibility.objects.filter(valid, function=Function.APPROVE, org_unit__active=True, area_id__in=ancestors)
        .select_related("org_unit")
        .order_by("id")
    )
    for r in responsibilities:
        by_area.setdefault(r.area_id, (f"org:{r.org_unit_id}", r.org_unit.name))
    out = {}
    for c in communes:
        ids = [int(p) for p in c.path.strip("/").split("/") if p]
        found = next((by_area[i] for i in reversed(ids) if i in by_area), None)
        if found is None and c.parent is not None and c.parent.level == Level.DISTRICT:
            found = (f"area:{c.parent_id}", c.parent.full_name)
        out[c.pk] = found or ("none", _("No approving office recorded"))
    return out


def coverage(user, area_id: int | None = None, month: date | None = None, *, lists: bool = True) -> Report:
    """The coverage of the user's areas (where they may view the registry), or of one of them."""
    month = month or this_month()
    target = coverage_target()
    qs = beneficiaries_for(user, Cap.REGISTRY_VIEW)
    if area_id:
        area = access.areas_for(user).filter(pk=area_id).first()
        qs = qs.filter(area_path__startswith=area.path) if area is not None else qs.none()
    by_commune = _figures(qs, month, lists=lists)
    communes = list(Area.objects.filter(pk__in=list(by_commune)).select_related("parent"))
    provinces = {
        a.pk: a for a in Area.objects.filter(pk__in={int(c.path.strip("/").split("/")[0]) for c in communes}).order_by()
    }
    paths = access.paths_with(user, Cap.REGISTRY_VIEW)
    everywhere = access.everywhere(user, Cap.REGISTRY_VIEW)
    offices = _offices(communes, timezone.localdate())

    def province_of(c: Area) -> Area | None:
        return provinces.get(int(c.path.strip("/").split("/")[0]))

    communes.sort(
        key=lambda c: (
            getattr(province_of(c), "name_key", ""),
            c.parent.name_key if c.parent else "",
            c.name_key,
            c.pk,
        )
    )
    commune_rows: list[Unit] = []
    office_rows: dict[str, Unit] = {}
    province_rows: dict[int, Unit] = {}
    total = Figures()
    for c in communes:
        figures = by_commune[c.pk]
        within = everywhere or any(c.path.startswith(p) for p in paths)
        commune_rows.append(
            Unit(
                key=f"area:{c.pk}",
                name=c.full_name,
                figures=figures,
                parent_name=c.parent.full_name if c.parent else "",
                area_id=c.pk if within else None,
            )
        )
        key, name = offices[c.pk]
        office = office_rows.setdefault(key, Unit(key=key, name=name))
        office.figures += figures
        province = province_of(c)
        if province is not None:
            unit = province_rows.setdefault(province.pk, Unit(key=f"area:{province.pk}", name=province.full_name))
            unit.figures += figures
        total += figures
    return Report(
        month=month,
        target=target,
        communes=commune_rows,
        offices=sorted(office_rows.values(), key=lambda u: u.name),
        provinces=sorted(province_rows.values(), key=lambda u: u.name),
        total=total,
    )


def figures_dict(f: Figures, target: Decimal) -> dict:
    """The figures for the API (shares in percent, None when there is no one to count)."""
    return {
        "active": f.active,
        "with_account": f.with_account,
        "without_account": f.without_account,
        "account_share": float(f.account_share) if f.account_share is not None else None,
        "meets_target": f.meets(target),
        "paid_by_account": f.paid_by_account,
        "paid_share": float(f.paid_share) if f.paid_share is not None else None,
        "registering_ncc": f.registering_ncc,
        "registering_btxh": f.registering_btxh,
    }
