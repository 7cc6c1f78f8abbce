"""The cash lists of a cycle (issue 12 part 2): one list per pay point and per home-delivery route
of each commune of the cycle, one entry per person on it.

What goes on the lists: the cycle's lines whose EFFECTIVE channel (`payroll.fixes`, after the
approved same-month fixes) is cash. A line switched to cash after a failed transfer appears
(source "switched"); a line a fix moved to an account disappears. Lines of a person a stop
recorded after approval concerns (`disbursement.batches.stopped_before`, the rule that holds
their transfers) and lines held by a disbursement exception are not listed; funeral support is
paid whatever the stop (it is paid because of the death).

One entry per person: the net of their cash lines (regular + arrears − recovery); funeral support
is its own entry (paid to the organiser). A net of zero or less is not listed (nothing to pay).

Where: a pay-point entry goes to the commune's pay point in use serving the person's village,
else to the commune's first pay point in use that serves the whole commune (no villages given),
else its first pay point in use. A home entry goes the same way to a route; a commune with a home
entry to place and no route in use gets one named after the commune (created by the build,
audited, its staff to be added), so that nobody paid at home is left off; a commune with
pay-point lines and no pay point in use is refused (a pay point needs an address): those people
are reported and listed once one exists.

Entries are numbered (`position`) village by village (village name, then the person's name in
Vietnamese order), funeral support last within its village: a new entry gets its number before it is
written, and a rebuild that moves kept entries renumbers them in one statement.

Re-running is harmless: entries already paid, not paid or returned are kept as they are; pending
entries whose lines are unchanged stay where they are; pending entries whose lines changed or
left cash are taken off the list (state cancelled) and, where there is still something to pay, a
new entry is made; newly switched lines are added. A person never has two live entries (a
database constraint). Entries of source "withdrawal" (an account holder who could not withdraw,
ansinh.cashout receipts) are not the build's and are left alone. Set-based: one query for the
lines, one for the live entries, bulk writes in chunks."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area
from ansinh.audit.services import build_event, record, record_many
from ansinh.core.text import name_sort_key
from ansinh.payroll.fixes import with_effective_channel
from ansinh.payroll.models import Channel, CycleState, LineType, PaymentCycle, PayrollLine

from .models import (
    CashEntry,
    CashEntryLine,
    CashList,
    CashListKind,
    CashListState,
    DeliveryRoute,
    EntrySource,
    EntryState,
    PayPoint,
)

S = CycleState
# The lists are made once the month is approved and funded, and kept up to date while it is paid.
BUILDABLE_STATES = (S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING)
CASH_CHANNELS = (Channel.PAY_POINT, Channel.HOME)
SETTLED = (EntryState.PAID, EntryState.NOT_PAID, EntryState.RETURNED)
CHUNK = 1000


@dataclass
class BuildResult:
    lists: list[CashList]
    created: int = 0
    cancelled: int = 0
    kept: int = 0
    routes_created: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


@dataclass
class _Wanted:
    """What one live entry should be, from the lines."""

    beneficiary_id: int
    funeral: bool
    commune_id: int
    village_id: int | None
    home: bool
    amount: int = 0
    line_ids: set[int] = field(default_factory=set)
    switched: bool = False
    payee_name: str = ""
    representation_id: int | None = None
    area_path: str = ""
    payee_rank: int = 9  # the regular line's payee first
    # what orders the list (`_order_key`)
    village_name: str | None = None
    sort_key: str = ""
    full_name: str = ""


def may_build(user, cycle: PaymentCycle) -> bool:
    return access.can_in_area(user, Cap.CASH_MANAGE, cycle.area)


def _lines(cycle: PaymentCycle) -> list[dict]:
    """The cycle's lines paid in cash after the approved fixes, not held by a stop."""
    from ansinh.disbursement.batches import stopped_before
    from ansinh.disbursement.models import ExceptionKind, Resolution, TransferException
    from ansinh.registry.models import Beneficiary

    held = TransferException.objects.filter(line_id=OuterRef("pk"), kind=ExceptionKind.HELD).filter(
        ~Q(state="resolved") | Q(resolution=Resolution.NOT_PAID)
    )
    stopped = Beneficiary.objects.filter(stopped_before(cycle), pk=OuterRef("beneficiary_id"))
    qs = (
        with_effective_channel(PayrollLine.objects.filter(cycle=cycle))
        .filter(effective_channel__in=CASH_CHANNELS)
        .annotate(is_held=Exists(held), is_stopped=Exists(stopped))
        .filter(Q(is_held=False) & (Q(is_stopped=False) | Q(line_type=LineType.FUNERAL)))
    )
    return list(
        qs.values(
            "pk",
            "beneficiary_id",
            "line_type",
            "amount",
            "channel",
            "effective_channel",
            "payee_name",
            "representation_id",
            "commune_id",
            "area_path",
            "beneficiary__village_id",
            "beneficiary__village__name",
            "beneficiary__sort_key",
            "beneficiary__full_name",
        ).order_by("pk")
    )


_PAYEE_RANK = {LineType.REGULAR: 0, LineType.FUNERAL: 0, LineType.ARREARS: 1, LineType.RECOVERY: 2}


def _wanted(lines: list[dict]) -> dict[tuple[int, bool], _Wanted]:
    out: dict[tuple[int, bool], _Wanted] = {}
    for row in lines:
        funeral = row["line_type"] == LineType.FUNERAL
        key = (row["beneficiary_id"], funeral)
        w = out.get(key)
        if w is None:
            w = out[key] = _Wanted(
                beneficiary_id=row["beneficiary_id"],
                funeral=funeral,
                commune_id=row["commune_id"],
                village_id=row["beneficiary__village_id"],
                home=False,
                area_path=row["area_path"],
                village_name=row["beneficiary__village__name"],
                sort_key=row["beneficiary__sort_key"],
                full_name=row["beneficiary__full_name"],
            )
        w.amount += row["amount"]
        w.line_ids.add(row["pk"])
        if row["channel"] not in CASH_CHANNELS:
            w.switched = True
        rank = _PAYEE_RANK.get(row["line_type"], 9)
        if rank < w.payee_rank:
            w.payee_rank = rank
            w.payee_name = row["payee_name"]
            w.representation_id = row["representation_id"]
            # where the person is paid: the channel of their main line (funeral support: a pay point)
            w.home = row["effective_channel"] == Channel.HOME and not funeral
    return out


class _Places:
    """The pay points and routes in use of the cycle's communes, and which serves a village."""

    def __init__(self, commune_ids: set[int]):
        self.points: dict[int, list[PayPoint]] = defaultdict(list)
        self.routes: dict[int, list[DeliveryRoute]] = defaultdict(list)
        self.point_of_village: dict[int, PayPoint] = {}
        self.route_of_village: dict[int, DeliveryRoute] = {}
        self._defaults: dict[tuple[str, int], PayPoint | DeliveryRoute | None] = {}
        for point in PayPoint.objects.filter(commune_id__in=commune_ids, active=True).prefetch_related("villages"):
            self.points[point.commune_id].append(point)
        for route in DeliveryRoute.objects.filter(commune_id__in=commune_ids, active=True).prefetch_related("villages"):
            self.routes[route.commune_id].append(route)
        for by_commune, by_village in ((self.points, self.point_of_village), (self.routes, self.route_of_village)):
            for places in by_commune.values():
                places.sort(key=lambda p: (p.name, p.pk))
                for place in places:
                    for village in place.villages.all():
                        by_village.setdefault(village.pk, place)  # type: ignore[arg-type]

    def _default(self, kind: str, commune_id: int):
        """The commune's first place serving the whole commune, else its first place (once per
        commune, not once per person)."""
        key = (kind, commune_id)
        if key not in self._defaults:
            places = (self.points if kind == "point" else self.routes).get(commune_id, [])
            whole = [p for p in places if not p.villages.all()]
            self._defaults[key] = (whole or places or [None])[0]
        return self._defaults[key]

    def point_for(self, commune_id: int, village_id: int | None) -> PayPoint | None:
        found = self.point_of_village.get(village_id) if village_id else None
        return found if found is not None else self._default("point", commune_id)

    def route_for(self, commune_id: int, village_id: int | None) -> DeliveryRoute | None:
        found = self.route_of_village.get(village_id) if village_id else None
        return found if found is not None else self._default("route", commune_id)

    def add_route(self, route: DeliveryRoute) -> None:
        self.routes[route.commune_id].append(route)
        self._defaults.pop(("route", route.commune_id), None)


def _default_route(commune: Area, actor, events: list) -> DeliveryRoute:
    name = _("Home delivery – %(commune)s") % {"commune": commune.name}
    route, created = DeliveryRoute.objects.get_or_create(
        commune=commune, name=name[:150], defaults={"area_path": commune.path}
    )
    if not created and not route.active:
        route.active = True
        route.save(update_fields=["active"])
        created = True
    if created:
        events.append(
            build_event(
                actor=actor,
                action="cashout.route.created",
                obj=route,
                area=commune,
                after={"name": route.name, "commune": commune.name, "villages": [], "staff": [], "by_build": True},
            )
        )
    return route


def _list_for(cycle: PaymentCycle, place, lists: dict, now, actor) -> CashList:
    key = ("point", place.pk) if isinstance(place, PayPoint) else ("route", place.pk)
    found = lists.get(key)
    if found is None:
        owner = {"pay_point": place} if key[0] == "point" else {"route": place}
        found = CashList.objects.create(
            cycle=cycle,
            kind=CashListKind.PAY_POINT if key[0] == "point" else CashListKind.HOME,
            commune_id=place.commune_id,
            area_path=place.area_path,
            built_at=now,
            built_by=actor if getattr(actor, "pk", None) else None,
            **owner,
        )
        lists[key] = found
    return found


def _existing_lists(cycle: PaymentCycle) -> dict:
    out = {}
    for cl in CashList.objects.filter(cycle=cycle):
        out[("point", cl.pay_point_id) if cl.pay_point_id else ("route", cl.route_id)] = cl
    return out


def _order_key(
    village_name: str | None, funeral: bool, sort_key: str, full_name: str, beneficiary_id: int, cache: dict
):
    """Where an entry goes in its list: village by village (Vietnamese order of the village's
    name, no village last), then by the person's name (a person registered without the sort
    key, an old row, by their name all the same), funeral support last within its village."""
    village = cache.get(village_name)
    if village is None:
        village = cache[village_name] = name_sort_key(village_name or "")
    return (village_name is None, village, funeral, sort_key or name_sort_key(full_name), beneficiary_id)


def _number(kept: list[CashEntry], new: list[tuple[CashEntry, _Wanted]]) -> list[tuple[int, int]]:
    """Number the live entries of each list 1..n in list order (`_order_key`): the new entries
    get their `position` here, before they are written; returns (pk, position) of the kept
    entries whose number changes (`_renumber`). `kept` carries the `order_*` annotations of
    `_build`'s read of the live entries."""
    cache: dict = {}
    by_list: dict[int, list[tuple[tuple, CashEntry]]] = defaultdict(list)
    for e in kept:
        key = _order_key(e.order_village, e.funeral, e.order_sort_key, e.order_name, e.beneficiary_id, cache)  # type: ignore[attr-defined]
        by_list[e.cash_list_id].append((key, e))
    for e, w in new:
        key = _order_key(w.village_name, w.funeral, w.sort_key, w.full_name, w.beneficiary_id, cache)
        by_list[e.cash_list.pk].append((key, e))
    moved: list[tuple[int, int]] = []
    for rows in by_list.values():
        rows.sort(key=lambda r: r[0])
        for n, (_key, e) in enumerate(rows, start=1):
            if e.pk is None:
                e.position = n
            elif e.position != n:
                moved.append((e.pk, n))
    return moved


RENUMBER_CHUNK = 5000  # rows per statement: two parameters a row, far below SQLite's and PostgreSQL's limits


def _renumber(moved: list[tuple[int, int]]) -> None:
    """Write the new numbers of kept entries: one UPDATE … FROM (VALUES …) statement (per 5,000
    entries), not Django's CASE WHEN per row (seconds for a big list)."""
    if not moved:
        return
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33):  # no UPDATE … FROM
        CashEntry.objects.bulk_update([CashEntry(pk=pk, position=n) for pk, n in moved], ["position"], batch_size=CHUNK)
        return
    table = connection.ops.quote_name(CashEntry._meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(moved), RENUMBER_CHUNK):
            chunk = moved[i : i + RENUMBER_CHUNK]
            values = ", ".join(["(CAST(%s AS bigint), CAST(%s AS bigint))"] * len(chunk))
            # only the table name and placeholders are written in; every value is a parameter
            sql = (
                f"WITH renumbered (entry_id, new_position) AS (VALUES {values}) "  # noqa: S608
                f"UPDATE {table} SET position = renumbered.new_position FROM renumbered "
                f"WHERE {table}.id = renumbered.entry_id"
            )
            cursor.execute(sql, [v for row in chunk for v in row])


def _refresh_totals(cycle: PaymentCycle) -> None:
    totals = {
        row["cash_list_id"]: row
        for row in CashEntry.objects.filter(cycle=cycle)
        .exclude(state=EntryState.CANCELLED)
        .values("cash_list_id")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    }
    changed = []
    for cl in CashList.objects.filter(cycle=cycle):
        row = totals.get(cl.pk) or {"n": 0, "total": 0}
        if (cl.entries_count, cl.total_amount) != (row["n"], row["total"] or 0):
            cl.entries_count, cl.total_amount = row["n"], row["total"] or 0
            changed.append(cl)
    if changed:
        CashList.objects.bulk_update(changed, ["entries_count", "total_amount"])


def _lock_cycle(cycle: PaymentCycle) -> PaymentCycle:
    return PaymentCycle.objects.select_for_update(of=("self",)).select_related("area", "programme").get(pk=cycle.pk)


def build_cash_lists(*, actor, cycle: PaymentCycle) -> BuildResult:
    """Make or bring up to date the cycle's cash lists (see the module). `actor` None: a system
    run (the CLI). Needs cashout.manage in the cycle's area."""
    if actor is not None and not may_build(actor, cycle):
        raise PermissionDenied(_("Your role does not allow making the cash lists here."))
    return _build(actor=actor, cycle=cycle, reason="build")


def refresh_after_fix(*, actor, cycle: PaymentCycle) -> BuildResult | None:
    """Called when a same-month fix is approved (disbursement.resolution.fix_approved): once the
    cycle's lists exist, a line switched to cash shows up at once (and one moved to an account
    leaves). The approver need not manage the lists: the fix is what was authorised."""
    if not CashList.objects.filter(cycle_id=cycle.pk).exists():
        return None
    return _build(actor=actor, cycle=cycle, reason="fix")


@transaction.atomic
def _build(*, actor, cycle: PaymentCycle, reason: str) -> BuildResult:
    cycle = _lock_cycle(cycle)
    if cycle.state not in BUILDABLE_STATES:
        raise ValidationError(
            _("Cash lists are made for an approved and funded cycle that is not yet settled (this one is “%(state)s”).")
            % {"state": cycle.get_state_display()}
        )
    now = timezone.now()
    wanted = _wanted(_lines(cycle))
    live = {
        (e.beneficiary_id, e.funeral): e
        for e in CashEntry.objects.filter(cycle=cycle)
        .exclude(state=EntryState.CANCELLED)
        .select_related("cash_list")
        .annotate(
            order_village=F("village__name"),
            order_sort_key=F("beneficiary__sort_key"),
            order_name=F("beneficiary__full_name"),
        )
    }
    entry_lines: dict[int, set[int]] = defaultdict(set)
    for entry_id, line_id in CashEntryLine.objects.filter(entry__in=[e.pk for e in live.values()]).values_list(
        "entry_id", "line_id"
    ):
        entry_lines[entry_id].add(line_id)

    commune_ids = set(
        PayrollLine.objects.filter(cycle=cycle).values_list("commune_id", flat=True).distinct().order_by()
    ) | {w.commune_id for w in wanted.values()}
    communes = {a.pk: a for a in Area.objects.filter(pk__in=commune_ids)}
    places = _Places(commune_ids)
    events: list = []
    result = BuildResult(lists=[])

    lists = _existing_lists(cycle)
    # a list for every pay point and route in use of the cycle's communes (withdrawals are
    # recorded at a pay point even where nobody is paid in cash)
    for commune_id in sorted(commune_ids):
        for place in [*places.points.get(commune_id, []), *places.routes.get(commune_id, [])]:
            _list_for(cycle, place, lists, now, actor)

    to_cancel: list[int] = []
    to_create: list[tuple[CashEntry, _Wanted]] = []
    missing_point: dict[int, int] = defaultdict(int)
    closed_refused = 0
    for key in set(live) | set(wanted):
        entry, w = live.get(key), wanted.get(key)
        if entry is not None and (entry.source == EntrySource.WITHDRAWAL or entry.state in SETTLED):
            result.kept += 1  # not the build's, or already settled: left as it is
            continue
        if w is not None and w.amount <= 0:
            w = None  # nothing to pay: not listed
        if entry is not None:
            if w is not None and entry_lines.get(entry.pk, set()) == w.line_ids and entry.amount == w.amount:
                result.kept += 1
                continue
            if entry.cash_list.state == CashListState.CLOSED:
                result.kept += 1
                continue
            to_cancel.append(entry.pk)
        if w is None:
            continue
        target: PayPoint | DeliveryRoute | None = (
            places.route_for(w.commune_id, w.village_id) if w.home else places.point_for(w.commune_id, w.village_id)
        )
        if target is None and w.home:
            # a commune with people paid at home and no route in use: one named after the commune
            target = _default_route(communes[w.commune_id], actor, events)
            places.add_route(target)
            result.routes_created.append(target.name)
        if target is None:
            missing_point[w.commune_id] += 1
            continue
        cash_list = _list_for(cycle, target, lists, now, actor)
        if cash_list.state == CashListState.CLOSED:
            closed_refused += 1
            continue
        to_create.append(
            (
                CashEntry(
                    cash_list=cash_list,
                    cycle=cycle,
                    beneficiary_id=w.beneficiary_id,
                    village_id=w.village_id,
                    payee_name=w.payee_name[:150],
                    representation_id=w.representation_id,
                    amount=w.amount,
                    funeral=w.funeral,
                    source=EntrySource.SWITCHED if w.switched else EntrySource.PAYROLL,
                    commune_id=w.commune_id,
                    area_path=w.area_path,
                ),
                w,
            )
        )

    if to_cancel:
        for i in range(0, len(to_cancel), CHUNK):
            CashEntry.objects.filter(pk__in=to_cancel[i : i + CHUNK]).update(state=EntryState.CANCELLED, updated_at=now)
    cancelled = set(to_cancel)
    moved = _number([e for e in live.values() if e.pk not in cancelled], to_create)
    _renumber(moved)
    to_create.sort(key=lambda c: (c[0].cash_list.pk, c[0].position))
    for i in range(0, len(to_create), CHUNK):
        chunk = to_create[i : i + CHUNK]
        made = CashEntry.objects.bulk_create([e for e, _w in chunk])
        CashEntryLine.objects.bulk_create(
            [
                CashEntryLine(entry_id=e.pk, line_id=line_id)
                for e, (_e, w) in zip(made, chunk, strict=True)
                for line_id in sorted(w.line_ids)
            ],
            batch_size=CHUNK,
        )
    result.created = len(to_create)
    result.cancelled = len(to_cancel)
    _refresh_totals(cycle)

    for commune_id, count in sorted(missing_point.items()):
        result.refusals.append(
            _("%(commune)s has no pay point in use: %(count)s people paid at a pay point are not listed yet.")
            % {"commune": communes[commune_id].name, "count": count}
        )
    if closed_refused:
        result.refusals.append(
            _("%(count)s people belong on a list that is already closed: they are paid next month as arrears.")
            % {"count": closed_refused}
        )
    if events:
        record_many(events)
    record(
        actor=actor,
        action="cashout.lists.built",
        obj=cycle,
        area=cycle.area,
        after={
            "month": f"{cycle.month:%Y-%m}",
            "lists": len(lists),
            "created": result.created,
            "cancelled": result.cancelled,
            "kept": result.kept,
            "refusals": result.refusals,
            "after_fix": reason == "fix",
        },
    )
    result.lists = list(
        CashList.objects.filter(cycle=cycle)
        .select_related("pay_point", "route", "commune")
        .order_by("area_path", "kind", "pay_point__name", "route__name")
    )
    return result
