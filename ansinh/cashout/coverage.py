"""Pay-point coverage (issue 12 part 1): per commune of the user's areas, the pay points in use,
whether any has an ATM nearby, the home-delivery routes; the communes without a pay point (the
plan requires one); and per district and overall "3 of 7 wards with an ATM" (the pilot report's
figures). One query for the communes with their counts, whatever their number."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level

from .models import DeliveryRoute, PayPoint


@dataclass
class CommuneRow:
    commune: Area
    pay_points: int
    with_atm: int
    routes: int

    @property
    def has_pay_point(self) -> bool:
        return self.pay_points > 0

    @property
    def has_atm(self) -> bool:
        return self.with_atm > 0


@dataclass
class Group:
    """A district (or province) and its communes' counts."""

    area: Area | None
    rows: list[CommuneRow] = field(default_factory=list)

    @property
    def communes(self) -> int:
        return len(self.rows)

    @property
    def with_pay_point(self) -> int:
        return sum(1 for r in self.rows if r.has_pay_point)

    @property
    def without_pay_point(self) -> int:
        return self.communes - self.with_pay_point

    @property
    def with_atm(self) -> int:
        return sum(1 for r in self.rows if r.has_atm)

    @property
    def pay_points(self) -> int:
        return sum(r.pay_points for r in self.rows)


@dataclass
class Coverage:
    groups: list[Group]
    total: Group

    @property
    def without(self) -> list[CommuneRow]:
        return [r for g in self.groups for r in g.rows if not r.has_pay_point]


def _count(model, **filters) -> Coalesce:
    sub = (
        model.objects.filter(commune_id=OuterRef("pk"), active=True, **filters)
        .order_by()
        .values("commune_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def communes_for(user, area: Area | None = None):
    """The communes in use of the user's areas (cashout.view), within `area` when given."""
    today = timezone.localdate()
    qs = access.scope(
        Area.objects.filter(level=Level.COMMUNE).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today)),
        user,
        Cap.CASH_VIEW,
        path_field="path",
    )
    if area is not None:
        qs = qs.filter(path__startswith=area.path)
    return qs


def coverage(user, area: Area | None = None) -> Coverage:
    communes = (
        communes_for(user, area)
        .select_related("parent")
        .annotate(
            n_points=_count(PayPoint),
            n_atm=_count(PayPoint, atm_nearby=True),
            n_routes=_count(DeliveryRoute),
        )
        .order_by("parent__name_key", "parent_id", "name_key", "pk")
    )
    groups: dict[int | None, Group] = {}
    total = Group(area=area)
    for c in communes:
        row = CommuneRow(commune=c, pay_points=c.n_points, with_atm=c.n_atm, routes=c.n_routes)
        groups.setdefault(c.parent_id, Group(area=c.parent)).rows.append(row)
        total.rows.append(row)
    return Coverage(groups=list(groups.values()), total=total)


def atm_summary(group: Group) -> str:
    """“3 of 7 communes with an ATM near a pay point”, as the pilot report counted."""
    from django.utils.translation import gettext as _

    return _("%(with_atm)s of %(communes)s communes with an ATM near a pay point") % {
        "with_atm": group.with_atm,
        "communes": group.communes,
    }
