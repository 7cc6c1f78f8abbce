"""The communes' monthly change lists (danh sách tăng, giảm, điều chỉnh): built from the registry
and payments data, completed with manual adjustments, submitted by the commune, accepted or
returned by the office. See docs/payment-cycle.md, "Change lists".

- One list per commune of the cycle's area (communes in force in the cycle's month): a district
  cycle (2023) has one list per commune, a commune cycle (since 2025-07) one.
- Automatic items (rebuilt while the list is being prepared or was returned; manual items kept):
  status changes effective in the month (new, moved in, stopped, moved out, suspended, resumed),
  adjustments (decisions, claims starting or ending), payment method and payee changes.
- Late items: changes effective in an earlier month but recorded after that month's payroll
  was generated and not in an earlier list; the payroll pays arrears or opens a recovery.
- Amounts: before = last month's regular line, after = the one entitlement function for the
  cycle's month (`policy.entitlement.PolicyMonth`), never re-coded here.
- The cycle moves on through `services.transition`, whose checks for the change-list edges are
  registered at the end of this module."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.payments.models import PayeeDesignation, PaymentMethod
from ansinh.policy.entitlement import Claim, PolicyMonth, age_in_years
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Decision, DecisionKind, StatusChange, StopReason
from ansinh.registry.models import Status as RegistryStatus
from ansinh.registry.rules import add_months

from .models import (
    ChangeItem,
    ChangeKind,
    ChangeList,
    ChangeListState,
    CycleDeadline,
    CycleState,
    DeadlineKind,
    LineType,
    PaymentCycle,
    PayrollLine,
    PayrollRun,
)
from .scope import beneficiary_in_communes_q, beneficiary_in_cycle_q, commune_of, is_legacy, sql_scope
from .services import province_id_of, transition

S = CycleState
L = ChangeListState
K = ChangeKind
CHUNK = 1000
LATE_LOOKBACK_MONTHS = 24  # how far back a late change is looked for
EDITABLE = (L.DRAFT, L.RETURNED)
BUILDABLE_CYCLE = (S.OPEN, S.CHANGES_SUBMITTED)


class ChangeListRefused(DomainError):
    """The change list cannot be changed this way now; the message says why."""


class ChangeListForbidden(DomainError):
    """The actor's roles do not allow this on the change list here."""


def done_q() -> Q:
    """A list that no longer holds the cycle up: submitted, accepted, or replaced by the last
    accepted one (`used_previous`)."""
    return Q(state__in=[L.SUBMITTED, L.ACCEPTED]) | Q(used_previous=True)


def communes_of(cycle: PaymentCycle):
    """The communes of the cycle's area in force in its month (of the cycle's tree: a 2023 cycle
    of a pre-2025 district has one list per pre-2025 commune, in force until 2025-06-30)."""
    return (
        Area.objects.filter(level=Level.COMMUNE, path__startswith=cycle.area_path)
        .valid_on(cycle.month)
        .order_by("path")
    )


def communes_on_previous_list(cycle: PaymentCycle) -> list[int]:
    """The communes of the cycle that missed their deadline and whose last accepted list the
    office chose to generate with: the payroll repeats their previous month's lines."""
    return list(ChangeList.objects.filter(cycle=cycle, used_previous=True).values_list("commune_id", flat=True))


def copy_previous_lines(cycle: PaymentCycle, commune_ids: list[int]) -> int:
    """Copy the previous month's REGULAR lines (same programme, any cycle of that month: the
    approving unit changed in 2025) of the beneficiaries the cycle attributes to `commune_ids`
    (`scope`: their pre-2025 commune for a pre-2025 cycle) into the cycle's draft payroll, in
    one INSERT … SELECT, skipping those not receiving this month (`generation.receiving_q`:
    never pay the dead) and those who already have a regular line in the cycle. The copies
    carry the commune and path of the cycle's lines. Returns the number of lines copied."""
    if not commune_ids:
        return 0
    from .generation import receiving_q

    receiving_sql, receiving_params = (
        Beneficiary.objects.filter(receiving_q(cycle.month), beneficiary_in_communes_q(cycle, commune_ids))
        .values("pk")
        .query.sql_with_params()
    )
    place = sql_scope(cycle)
    q = connection.ops.quote_name
    lines, cycles = q(PayrollLine._meta.db_table), q(PaymentCycle._meta.db_table)
    people = q(Beneficiary._meta.db_table)
    columns = (
        "line_type, amount, representation_id, payee_name, channel, account_id, account_institution, "
        "account_last4, account_holder, basis, months"
    )
    selected = ", ".join(f"l.{c.strip()}" for c in columns.split(","))
    with connection.cursor() as cursor:
        cursor.execute(
            # quoted table names and placeholders only; every value is a parameter
            f"INSERT INTO {lines} (cycle_id, beneficiary_id, {columns}, area_path, commune_id, created_at) "  # noqa: S608
            f"SELECT %s, l.beneficiary_id, {selected}, {place.path}, {place.commune}, %s "
            f"FROM {lines} l JOIN {cycles} c ON c.id = l.cycle_id JOIN {people} b ON b.id = l.beneficiary_id "
            f"{place.join} "
            f"WHERE c.month = %s AND c.programme_id = %s AND l.line_type = %s AND c.id <> %s "
            f"AND l.beneficiary_id IN ({receiving_sql}) "
            f"ON CONFLICT DO NOTHING",
            [
                cycle.pk,
                timezone.now(),
                add_months(cycle.month, -1),
                cycle.programme_id,
                LineType.REGULAR,
                cycle.pk,
                *receiving_params,
            ],
        )
        return max(cursor.rowcount, 0)


def people_of(change_list: ChangeList):
    """The beneficiaries the list's cycle attributes to its commune (`scope`: for a 2023 list,
    those whose pre-2025 commune it is)."""
    return Beneficiary.objects.filter(beneficiary_in_communes_q(change_list.cycle, [change_list.commune_id]))


# --- who may do what --------------------------------------------------------------------------------


def may_prepare(user, cycle: PaymentCycle) -> bool:
    return access.can_in_area(user, Cap.PAYROLL_PREPARE, cycle.area)


def may_submit(user, change_list: ChangeList) -> bool:
    return access.can_in_area(user, Cap.PAYROLL_SUBMIT_CHANGES, change_list.commune)


def _require_office(actor, cycle: PaymentCycle) -> None:
    if actor is not None and not may_prepare(actor, cycle):
        raise ChangeListForbidden(_("Your role does not allow appraising the communes' change lists here."))


def _require_commune(actor, change_list: ChangeList) -> None:
    if actor is not None and not may_submit(actor, change_list):
        raise ChangeListForbidden(_("Your role does not allow preparing this commune's change list."))


def _actor_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def _lock(change_list: ChangeList) -> ChangeList:
    return (
        ChangeList.objects.select_for_update(of=("self",))
        .select_related("commune", "cycle__area", "cycle__programme", "cycle__approving_unit")
        .get(pk=change_list.pk)
    )


def _lock_cycle(cycle: PaymentCycle) -> PaymentCycle:
    return (
        PaymentCycle.objects.select_for_update(of=("self",))
        .select_related("area", "programme", "approving_unit")
        .get(pk=cycle.pk)
    )


def _audit_after(cl: ChangeList, **extra) -> dict:
    return {
        "month": cl.cycle.month.isoformat(),
        "programme": cl.cycle.programme.code,
        "commune": cl.commune.full_name,
        "state": cl.state,
        "overdue": cl.overdue,
        "used_previous": cl.used_previous,
    } | extra


# --- reads ------------------------------------------------------------------------------------------


def lists_for(user):
    """The change lists of the communes where the user reads payment cycles (another commune's
    list is not there: a 404)."""
    from .queries import READ_CAPS, _scope_q

    qs = ChangeList.objects.select_related("commune", "cycle__area", "cycle__programme", "cycle__approving_unit")
    q = _scope_q(user, READ_CAPS)
    return qs if q is None else qs.filter(q)


def item_counts(list_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per list: changes, late changes, manual adjustments (one query)."""
    from django.db.models import Count

    out: dict[int, dict[str, int]] = {}
    for list_id, kind, late, n in (
        ChangeItem.objects.filter(change_list_id__in=list_ids)
        .values_list("change_list_id", "kind", "late")
        .annotate(n=Count("id"))
        .order_by()
    ):
        bucket = out.setdefault(list_id, {"items": 0, "late": 0, "manual": 0})
        bucket["items"] += n
        bucket["late"] += n if late else 0
        bucket["manual"] += n if kind == K.MANUAL else 0
    return out


# --- building the automatic items -----------------------------------------------------------------


def _chunks(ids: list[int]):
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _status_kind(from_status: str, to_status: str, reason: str, follows_id) -> str | None:
    if to_status == RegistryStatus.ACTIVE:
        if from_status == RegistryStatus.SUSPENDED:
            return K.RESUMED
        return K.MOVED_IN if follows_id else K.NEW
    if to_status == RegistryStatus.STOPPED:
        return K.MOVED_OUT if reason == StopReason.MOVED else K.STOPPED
    if to_status == RegistryStatus.SUSPENDED:
        return K.SUSPENDED
    return None


class _Collector:
    """The events of the cycle's month (and late ones) per commune, one per (person, kind, month)."""

    def __init__(self, cycle: PaymentCycle, communes: dict[int, str]):
        self.cycle = cycle
        self.month = cycle.month
        self.communes = communes  # commune id → path
        self.lookback = add_months(self.month, -LATE_LOOKBACK_MONTHS)
        self.events: dict[tuple[int, str, date], dict] = {}
        # the payroll runs of earlier months that cover each commune: month → [(area_path, generated_at)]
        self.runs: dict[date, list] = defaultdict(list)
        covering = Q(cycle__area_path__startswith=cycle.area_path) | Q(cycle__area_id__in=cycle.area.ancestor_ids())
        for month, path, generated_at in (
            PayrollRun.objects.filter(covering)
            .filter(
                cycle__programme_id=cycle.programme_id, cycle__month__gte=self.lookback, cycle__month__lt=self.month
            )
            .values_list("cycle__month", "cycle__area_path", "generated_at")
        ):
            self.runs[month].append((path, generated_at))

    def month_q(self, field: str) -> Q:
        """The cycle's month, or an earlier month whose payroll exists (late candidates)."""
        q = Q(**{field: self.month})
        for month in self.runs:
            q |= Q(**{field: month})
        return q

    def generated_at(self, commune_id: int, month: date):
        path = self.communes[commune_id]
        times = [at for where, at in self.runs.get(month, ()) if path.startswith(where)]
        return min(times) if times else None

    def add(self, bid: int, commune_id, kind: str, month: date, recorded_at, detail: dict) -> None:
        if commune_id not in self.communes:
            return
        late = False
        if month != self.month:
            generated = self.generated_at(commune_id, month)
            if generated is None or recorded_at is None or recorded_at <= generated:
                return
            late = True
        key = (bid, kind, month)
        if key not in self.events:
            self.events[key] = {"commune_id": commune_id, "late": late, "detail": detail}


def _collect(cycle: PaymentCycle, communes: dict[int, str]) -> _Collector:
    c = _Collector(cycle, communes)
    path, month = cycle.area_path, cycle.month
    in_programme = BeneficiaryCategory.objects.filter(category__programme_id=cycle.programme_id).values(
        "beneficiary_id"
    )
    # the cycle's beneficiaries, and the commune their items go to (the pre-2025 one for a 2023 cycle)
    here = beneficiary_in_cycle_q(cycle, "beneficiary__")
    commune = commune_of(cycle, "beneficiary__")
    # status changes (a move is attributed to the commune it leaves or enters)
    for bid, commune_id, from_s, to_s, reason, eff, at, _kind, from_c, to_c, follows in (
        StatusChange.objects.filter(c.month_q("effective_month"))
        .filter(
            here | Q(decision__from_commune__path__startswith=path) | Q(decision__to_commune__path__startswith=path)
        )
        .filter(beneficiary_id__in=in_programme)
        .values_list(
            "beneficiary_id",
            commune,
            "from_status",
            "to_status",
            "reason",
            "effective_month",
            "at",
            "decision__kind",
            "decision__from_commune_id",
            "decision__to_commune_id",
            "decision__follows_id",
        )
        .order_by("effective_month", "id")
    ):
        item_kind = _status_kind(from_s, to_s, reason, follows)
        if item_kind is None:
            continue
        where = commune_id
        if item_kind == K.MOVED_OUT and from_c:
            where = from_c
        elif item_kind == K.MOVED_IN and to_c:
            where = to_c
        c.add(bid, where, item_kind, eff, at, {"reason": reason} if reason else {})
    status_people = {(bid, eff) for bid, _k, eff in c.events}
    # adjustments: decisions, and claims starting or ending with the month
    for bid, commune_id, eff, at in (
        Decision.objects.filter(c.month_q("effective_month"), kind=DecisionKind.ADJUST)
        .filter(here, beneficiary_id__in=in_programme)
        .values_list("beneficiary_id", commune, "effective_month", "created_at")
    ):
        if (bid, eff) not in status_people:
            c.add(bid, commune_id, K.ADJUSTED, eff, at, {})
    for bid, commune_id in (
        BeneficiaryCategory.objects.filter(here, category__programme_id=cycle.programme_id)
        .filter(Q(from_month=month) | Q(to_month=add_months(month, -1)))
        .values_list("beneficiary_id", commune)
        .distinct()
    ):
        if (bid, month) not in status_people:
            c.add(bid, commune_id, K.ADJUSTED, month, None, {})
    entered = {(bid, eff) for (bid, k, eff) in c.events if k in (K.NEW, K.MOVED_IN)}
    for model, kind in ((PaymentMethod, K.METHOD), (PayeeDesignation, K.PAYEE)):
        fields = ["beneficiary_id", commune, "from_month", "at"]
        if model is PaymentMethod:
            fields.append("method")
        for row in (
            model.objects.filter(c.month_q("from_month"), cancelled_at__isnull=True)
            .filter(here, beneficiary_id__in=in_programme)
            .values_list(*fields)
            .order_by("from_month", "id")
        ):
            bid, commune_id, eff, at = row[:4]
            if (bid, eff) not in entered:
                c.add(bid, commune_id, kind, eff, at, {"method": row[4]} if len(row) > 4 else {})
    # late changes already listed in an earlier change list are not listed again
    late_keys = [k for k, v in c.events.items() if v["late"]]
    if late_keys:
        seen = set(
            ChangeItem.objects.filter(
                change_list__cycle__programme_id=cycle.programme_id,
                change_list__cycle__month__lt=month,
                beneficiary_id__in={k[0] for k in late_keys},
            )
            .exclude(kind=K.MANUAL)
            .values_list("beneficiary_id", "kind", "effective_month")
        )
        for key in late_keys:
            if key in seen:
                del c.events[key]
    return c


def _claims_in_force(programme_id: int, month: date) -> Q:
    return Q(category__programme_id=programme_id, from_month__lte=month) & (
        Q(to_month__isnull=True) | Q(to_month__gte=month)
    )


def amounts_now(cycle: PaymentCycle, ids: list[int]) -> dict[int, dict]:
    """What each beneficiary is entitled to in the cycle's month by the one entitlement function
    (0 when not receiving that month), evaluated once per distinct (province, claims, age). The
    province is the beneficiary's; for a pre-2025 cycle the cycle's (pre-2025) province."""
    from .generation import receiving_q

    out: dict[int, dict] = {}
    if not ids:
        return out
    month = cycle.month
    province = province_id_of(cycle.area_path)
    legacy = is_legacy(cycle)
    policy = PolicyMonth.load(month, provinces=[province])
    sensitive_codes = {code for code, info in policy.categories.items() if info.sensitive}
    memo: dict = {}
    for chunk in _chunks(sorted(ids)):
        receiving = set(Beneficiary.objects.filter(receiving_q(month), pk__in=chunk).values_list("pk", flat=True))
        claims: dict[int, list[Claim]] = defaultdict(list)
        for bid, code, condition, units, fixed_key in (
            BeneficiaryCategory.objects.filter(_claims_in_force(cycle.programme_id, month), beneficiary_id__in=chunk)
            .order_by("beneficiary_id", "category__code", "condition", "id")
            .values_list("beneficiary_id", "category__code", "condition", "units", "fixed_key")
        ):
            claims[bid].append(Claim(category_code=code, condition=condition, units=units, fixed_key=fixed_key))
        for bid, birth_date, path in Beneficiary.objects.filter(pk__in=chunk).values_list(
            "pk", "birth_date", "area_path"
        ):
            person_claims = tuple(claims.get(bid, ()))
            codes = sorted({cl.category_code for cl in person_claims})
            pid = province if legacy else province_id_of(path)
            key = (pid, person_claims, age_in_years(birth_date, month))
            if key not in memo:
                memo[key] = policy.table(pid).entitlement(person_claims, birth_date) if person_claims else None
            e = memo[key]
            paid = bid in receiving and e is not None
            out[bid] = {
                "amount": e.amount if paid and e is not None else 0,
                "categories": codes,
                "explanation": e.explanation if paid and e is not None else "",
                "sensitive": bool(e is not None and e.sensitive) or any(code in sensitive_codes for code in codes),
            }
    return out


def amounts_before(cycle: PaymentCycle, ids: list[int]) -> dict[int, int]:
    """Each beneficiary's regular line of the previous month (any cycle of that month and programme)."""
    out: dict[int, int] = {}
    for chunk in _chunks(sorted(ids)):
        out.update(
            PayrollLine.objects.filter(
                cycle__month=add_months(cycle.month, -1),
                cycle__programme_id=cycle.programme_id,
                line_type=LineType.REGULAR,
                beneficiary_id__in=chunk,
            ).values_list("beneficiary_id", "amount")
        )
    return out


def _rebuild(cycle: PaymentCycle, lists: list[ChangeList]) -> int:
    """Replace the automatic items of `lists` (locked, editable) with those the data says now;
    manual items stay. Returns the number of automatic items written."""
    if not lists:
        return 0
    by_commune = {cl.commune_id: cl for cl in lists}
    ChangeItem.objects.filter(change_list__in=[cl.pk for cl in lists]).exclude(kind=K.MANUAL).delete()
    paths = dict(Area.objects.filter(pk__in=list(by_commune)).values_list("pk", "path"))
    events = _collect(cycle, paths).events
    ids = sorted({bid for bid, _k, _m in events})
    now_amounts = amounts_now(cycle, ids)
    before = amounts_before(cycle, ids)
    items = []
    for (bid, kind, month), event in sorted(events.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
        now = now_amounts.get(bid, {})
        detail = dict(event["detail"])
        detail |= {k: now[k] for k in ("categories", "explanation", "sensitive") if k in now}
        items.append(
            ChangeItem(
                change_list=by_commune[event["commune_id"]],
                beneficiary_id=bid,
                kind=kind,
                effective_month=month,
                late=event["late"],
                amount_before=before.get(bid),
                amount_after=now.get("amount", 0),
                detail=detail,
            )
        )
    ChangeItem.objects.bulk_create(items, batch_size=CHUNK)
    built = timezone.now()
    ChangeList.objects.filter(pk__in=[cl.pk for cl in lists]).update(built_at=built)
    for cl in lists:
        cl.built_at = built
    return len(items)


@transaction.atomic
def build_change_lists(*, actor, cycle: PaymentCycle, communes: list[Area] | None = None) -> dict:
    """Create the missing change lists of the cycle's communes and (re)build the automatic items
    of those being prepared or returned (submitted and accepted lists stay as they are).
    Idempotent; set-based (a few reads for the whole cycle, one bulk insert).

    The office (payroll.prepare in the cycle's area) builds every commune's list; a commune
    officer (payroll.submit_changes) builds the lists of their communes only; actor None is a
    system run. `communes` narrows the build to some communes."""
    cycle = _lock_cycle(cycle)
    if cycle.state not in BUILDABLE_CYCLE:
        raise ChangeListRefused(
            _("Change lists are prepared only while the cycle is open for changes or its changes are submitted.")
        )
    targets = list(communes_of(cycle))
    if communes is not None:
        wanted = {a.pk for a in communes}
        targets = [a for a in targets if a.pk in wanted]
    if actor is not None and not may_prepare(actor, cycle):
        targets = [a for a in targets if access.can_in_area(actor, Cap.PAYROLL_SUBMIT_CHANGES, a)]
        if not targets:
            raise ChangeListForbidden(_("Your role does not allow preparing the change lists of this cycle."))
    ChangeList.objects.bulk_create(
        [ChangeList(cycle=cycle, commune=a, area_path=a.path) for a in targets], ignore_conflicts=True
    )
    lists = list(
        ChangeList.objects.select_for_update(of=("self",))
        .filter(cycle=cycle, commune_id__in=[a.pk for a in targets], state__in=EDITABLE)
        .order_by("pk")
    )
    items = _rebuild(cycle, lists)
    summary = {
        "cycle": cycle.pk,
        "month": f"{cycle.month:%Y-%m}",
        "programme": cycle.programme.code,
        "lists": ChangeList.objects.filter(cycle=cycle).count(),
        "rebuilt": len(lists),
        "items": items,
    }
    record(actor=actor, action="payroll.changelists.built", obj=cycle, area=cycle.area, after=summary)
    return summary


# --- manual items ---------------------------------------------------------------------------------


def _require_editable(cl: ChangeList) -> None:
    if cl.state not in EDITABLE:
        raise ChangeListRefused(_("The change list has been submitted; it can no longer be changed."))
    if cl.cycle.state not in BUILDABLE_CYCLE:
        raise ChangeListRefused(_("The cycle is past the change lists; the change goes into next month's list."))


@transaction.atomic
def add_manual_item(
    *, actor, change_list: ChangeList, beneficiary: Beneficiary, amount: int, reason: str
) -> ChangeItem:
    """A manual adjustment with a reason: `amount` in đồng, positive = to pay as arrears,
    negative = to recover. The beneficiary must be of the list's commune."""
    cl = _lock(change_list)
    _require_commune(actor, cl)
    _require_editable(cl)
    reason = (reason or "").strip()
    if not reason:
        raise ChangeListRefused(_("Give the reason for the adjustment."))
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise ChangeListRefused(_("Enter the amount in đồng: positive to pay, negative to recover, not zero."))
    if abs(amount) > 10_000_000_000:
        raise ChangeListRefused(_("The amount is too large."))
    b = people_of(cl).filter(pk=beneficiary.pk).first()
    if b is None:
        raise ChangeListRefused(_("The person is not a beneficiary of this commune."))
    item = ChangeItem.objects.create(
        change_list=cl,
        beneficiary=b,
        kind=K.MANUAL,
        effective_month=cl.cycle.month,
        manual_amount=amount,
        reason=reason[:2000],
        created_by=_actor_or_none(actor),
    )
    record(
        actor=actor,
        action="payroll.changelist.item_added",
        obj=cl,
        area=cl.commune,
        after=_audit_after(cl, beneficiary=b.pk, name=b.full_name, amount=amount),
        note=item.reason,
    )
    return item


@transaction.atomic
def remove_manual_item(*, actor, item: ChangeItem) -> None:
    cl = _lock(item.change_list)
    _require_commune(actor, cl)
    _require_editable(cl)
    item = ChangeItem.objects.select_related("beneficiary").get(pk=item.pk, change_list=cl)
    if item.kind != K.MANUAL:
        raise ChangeListRefused(_("Only a manual adjustment can be removed; the other changes come from the registry."))
    before = _audit_after(
        cl, beneficiary=item.beneficiary_id, name=item.beneficiary.full_name, amount=item.manual_amount
    )
    item.delete()
    record(actor=actor, action="payroll.changelist.item_removed", obj=cl, area=cl.commune, before=before)


# --- submit, accept, return, use the last accepted list, appraise ----------------------------------


def commune_deadline(cycle: PaymentCycle) -> date | None:
    return (
        CycleDeadline.objects.filter(cycle=cycle, kind=DeadlineKind.COMMUNE_CHANGES)
        .values_list("due_date", flat=True)
        .first()
    )


def all_done(cycle: PaymentCycle) -> bool:
    """Every commune of the cycle has a list, and every list is submitted, accepted or replaced
    by the last accepted one."""
    lists = ChangeList.objects.filter(cycle=cycle)
    communes = set(communes_of(cycle).values_list("pk", flat=True))
    listed = set(lists.values_list("commune_id", flat=True))
    return bool(communes) and communes <= listed and not lists.exclude(done_q()).exists()


def _advance(actor, cycle: PaymentCycle, note: str) -> None:
    """Move an open cycle to "changes submitted" once every list is in: with the actor when their
    role carries the step's capability in the cycle's area, otherwise as a system step whose note
    names who completed it."""
    cycle.refresh_from_db(fields=["state"])
    if cycle.state != S.OPEN or not all_done(cycle):
        return
    from .services import may_move

    if actor is not None and may_move(actor, cycle, S.CHANGES_SUBMITTED):
        transition(actor=actor, cycle=cycle, to_state=S.CHANGES_SUBMITTED, note=note)
    else:
        transition(actor=None, cycle=cycle, to_state=S.CHANGES_SUBMITTED, note=note)


def _who(actor) -> str:
    if actor is None:
        return _("the system")
    return getattr(actor, "full_name", "") or getattr(actor, "username", "")


@transaction.atomic
def submit(*, actor, change_list: ChangeList) -> ChangeList:
    """The commune submits its list (payroll.submit_changes in the commune; actor None is a
    system run). The list is rebuilt first so it is current; submitted after the commune's
    deadline it is marked overdue. When every list of the cycle is in, the cycle moves to
    "changes submitted"."""
    cycle = _lock_cycle(change_list.cycle)
    cl = _lock(change_list)
    _require_commune(actor, cl)
    _require_editable(cl)
    _rebuild(cycle, [cl])
    due = commune_deadline(cycle)
    now = timezone.now()
    cl.state = L.SUBMITTED
    cl.submitted_at, cl.submitted_by = now, _actor_or_none(actor)
    cl.overdue = cl.overdue or cl.used_previous or (due is not None and timezone.localdate() > due)
    cl.used_previous = False  # the commune's own list replaces the last accepted one
    cl.save(update_fields=["state", "submitted_at", "submitted_by", "overdue", "used_previous"])
    items = ChangeItem.objects.filter(change_list=cl).count()
    record(
        actor=actor, action="payroll.changelist.submitted", obj=cl, area=cl.commune, after=_audit_after(cl, items=items)
    )
    _advance(
        actor,
        cycle,
        _("Change lists complete; the last one submitted by %(who)s (%(commune)s).")
        % {"who": _who(actor), "commune": cl.commune.full_name},
    )
    return cl


@transaction.atomic
def accept(*, actor, change_list: ChangeList) -> ChangeList:
    """The office accepts a submitted list (payroll.prepare in the cycle's area)."""
    cycle = _lock_cycle(change_list.cycle)
    cl = _lock(change_list)
    _require_office(actor, cycle)
    if cl.state != L.SUBMITTED:
        raise ChangeListRefused(_("Only a submitted change list can be accepted."))
    if cycle.state not in BUILDABLE_CYCLE:
        raise ChangeListRefused(_("The cycle is past the change lists."))
    cl.state = L.ACCEPTED
    cl.decided_at, cl.decided_by = timezone.now(), _actor_or_none(actor)
    cl.save(update_fields=["state", "decided_at", "decided_by"])
    record(actor=actor, action="payroll.changelist.accepted", obj=cl, area=cl.commune, after=_audit_after(cl))
    return cl


@transaction.atomic
def return_list(*, actor, change_list: ChangeList, comment: str) -> ChangeList:
    """The office returns a submitted (or accepted) list to the commune with its comments; the
    cycle goes back to "open for changes" if its changes were submitted."""
    cycle = _lock_cycle(change_list.cycle)
    cl = _lock(change_list)
    _require_office(actor, cycle)
    comment = (comment or "").strip()
    if not comment:
        raise ChangeListRefused(_("Write the comments for the commune."))
    if cl.state not in (L.SUBMITTED, L.ACCEPTED) or cycle.state not in BUILDABLE_CYCLE:
        raise ChangeListRefused(
            _("Only a submitted or accepted change list of a cycle not yet appraised can be returned.")
        )
    cl.state = L.RETURNED
    cl.comment = comment[:4000]
    cl.decided_at, cl.decided_by = timezone.now(), _actor_or_none(actor)
    cl.save(update_fields=["state", "comment", "decided_at", "decided_by"])
    record(
        actor=actor,
        action="payroll.changelist.returned",
        obj=cl,
        area=cl.commune,
        after=_audit_after(cl),
        note=cl.comment[:2000],
    )
    if cycle.state == S.CHANGES_SUBMITTED:
        transition(
            actor=actor,
            cycle=cycle,
            to_state=S.OPEN,
            note=_("Change list of %(commune)s returned: %(comment)s")
            % {"commune": cl.commune.full_name, "comment": comment},
        )
    return cl


@transaction.atomic
def use_last_accepted(*, actor, change_list: ChangeList, today: date | None = None) -> ChangeList:
    """A commune missed its deadline: the office generates with its last accepted list (the
    payroll repeats the commune's previous month's lines, `copy_previous_lines`). Only after the
    deadline and while the list is not submitted; the overdue is recorded. The cycle then moves
    on without that commune."""
    cycle = _lock_cycle(change_list.cycle)
    cl = _lock(change_list)
    _require_office(actor, cycle)
    today = today or timezone.localdate()
    due = commune_deadline(cycle)
    if cl.state not in EDITABLE or cl.used_previous:
        raise ChangeListRefused(_("The commune's list is submitted or already replaced by the last accepted one."))
    if cycle.state not in BUILDABLE_CYCLE:
        raise ChangeListRefused(_("The cycle is past the change lists."))
    if due is None or today <= due:
        raise ChangeListRefused(
            _("The commune's deadline (%(date)s) has not passed yet.")
            % {"date": due.strftime("%d/%m/%Y") if due else "—"}
        )
    cl.used_previous, cl.overdue = True, True
    cl.decided_at, cl.decided_by = timezone.now(), _actor_or_none(actor)
    cl.save(update_fields=["used_previous", "overdue", "decided_at", "decided_by"])
    record(actor=actor, action="payroll.changelist.used_previous", obj=cl, area=cl.commune, after=_audit_after(cl))
    _advance(
        actor,
        cycle,
        _("Change lists complete; %(who)s used the last accepted list of %(commune)s, which missed its deadline.")
        % {"who": _who(actor), "commune": cl.commune.full_name},
    )
    return cl


@transaction.atomic
def appraise(*, actor, cycle: PaymentCycle, note: str = "") -> PaymentCycle:
    """The office appraises the cycle once every list is accepted or replaced by the last
    accepted one (the transition's checks say what is missing)."""
    cycle = _lock_cycle(cycle)
    _require_office(actor, cycle)
    return transition(actor=actor, cycle=cycle, to_state=S.APPRAISED, note=note)


# --- the checks of the change-list edges (services.CHECKS) ----------------------------------------


def _pending_names(cycle: PaymentCycle, exclude: Q) -> str:
    communes = dict(communes_of(cycle).values_list("pk", "name"))
    listed = dict(ChangeList.objects.filter(cycle=cycle).values_list("commune_id", "commune__name"))
    missing = [name for pk, name in communes.items() if pk not in listed]
    pending = list(ChangeList.objects.filter(cycle=cycle).exclude(exclude).values_list("commune__name", flat=True))
    return ", ".join(sorted(missing + pending))


def check_submitted(cycle: PaymentCycle) -> str | None:
    if not communes_of(cycle).exists():
        return _("The cycle's area has no commune in force this month.")
    names = _pending_names(cycle, done_q())
    if names:
        return _("The change lists of these communes are not submitted yet: %(communes)s.") % {"communes": names}
    return None


def check_returned(cycle: PaymentCycle) -> str | None:
    if not ChangeList.objects.filter(cycle=cycle, state=L.RETURNED).exists():
        return _("Return a commune's change list with comments first (the cycle goes back to the communes then).")
    return None


def check_accepted(cycle: PaymentCycle) -> str | None:
    if not communes_of(cycle).exists():
        return _("The cycle's area has no commune in force this month.")
    names = _pending_names(cycle, Q(state=L.ACCEPTED) | Q(used_previous=True))
    if names:
        return _("The change lists of these communes are not accepted yet: %(communes)s.") % {"communes": names}
    return None
