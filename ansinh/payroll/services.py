"""Every write of the payment cycle: opening the cycles of a month, moving a cycle along the one
transitions map (`models.TRANSITIONS`), a province's payment calendar, provider contracts.

A transition is one generic service, `transition()`: the map says whether the move exists and
which capability it needs in the cycle's area; `CHECKS` (a plain dict registry, edge → checks)
says what must hold. Each check returns None or the Vietnamese sentence that refuses the move.
The steps whose data is built by later parts of issue 10 (the change list, payroll lines, the
funding record, provider files, settlement) are registered as `_needs(...)` checks that refuse
with a sentence naming what is missing: nothing pretends to have been done. A later part
replaces the `_needs` entry of its edge with its real checks (docs/payment-cycle.md lists them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.models import Function, OrgKind, OrgUnit, Responsibility
from ansinh.areas.models import Area
from ansinh.audit.services import record, snapshot
from ansinh.core.errors import DomainError, InvalidTransition
from ansinh.payments.crypto import normalize_number
from ansinh.payments.models import Institution
from ansinh.policy.models import Kind, Programme

from .calendar import calendar_for, due_dates
from .models import (
    DEADLINE_MET_AT,
    STATE_ORDER,
    TRANSITIONS,
    ContractPurpose,
    CycleDeadline,
    CycleState,
    DeadlineKind,
    FeeKind,
    NonWorkingRule,
    PaymentCalendar,
    PaymentCycle,
    ProviderContract,
    first_of_month,
)

S = CycleState


class TransitionRefused(DomainError):
    """A check of the transition refused it; the message says why (translated)."""


class TransitionForbidden(DomainError):
    """The actor's roles do not carry the capability the transition needs in the cycle's area."""


# --- opening the cycles of a month ---------------------------------------------------------------


def province_id_of(path: str) -> int:
    return int(path.strip("/").split("/")[0])


def _approving_responsibilities(month: date, area: Area | None):
    qs = (
        Responsibility.objects.filter(function=Function.APPROVE, org_unit__active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=month))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=month))
        .filter(Q(area__valid_from__isnull=True) | Q(area__valid_from__lte=month))
        .filter(Q(area__valid_to__isnull=True) | Q(area__valid_to__gte=month))
    )
    if area is not None:
        # the units responsible for the area's parts, and the one responsible for the area itself
        qs = qs.filter(Q(area__path__startswith=area.path) | Q(area_id__in=area.ancestor_ids()))
    return qs.select_related("area").order_by("area__path", "pk")


def _calendars(province_ids: set[int]) -> dict[int, PaymentCalendar]:
    found = {c.province_id: c for c in PaymentCalendar.objects.filter(province_id__in=province_ids)}
    return {pid: found.get(pid) or calendar_for(None) for pid in province_ids}


def _chunks(rows: list, size: int):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


CHUNK = 1000  # VALUES rows per statement (3 parameters each: well under SQLite's limit)


def _insert_cycles(month: date, units: dict[int, Area], programme_ids: list[int]) -> int:
    """INSERT … SELECT of the missing cycles (units × programmes), ON CONFLICT DO NOTHING: set-based,
    and safe when two runs overlap (the unique constraint decides)."""
    if not units or not programme_ids:
        return 0
    q = connection.ops.quote_name
    cycles, programmes = q(PaymentCycle._meta.db_table), q(Programme._meta.db_table)
    created = 0
    now = timezone.now()
    rows = [(unit_id, where.pk, where.path) for unit_id, where in units.items()]
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, CHUNK):
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            marks = ", ".join(["%s"] * len(programme_ids))
            cursor.execute(
                # quoted table names and placeholders only; every value is a parameter
                f"INSERT INTO {cycles} (approving_unit_id, programme_id, month, area_id, area_path, state, opened_at) "  # noqa: S608
                f"SELECT u.column1, p.id, %s, u.column2, u.column3, %s, %s FROM (VALUES {values}) AS u "
                f"CROSS JOIN {programmes} p WHERE p.id IN ({marks}) ON CONFLICT DO NOTHING",
                [month, S.OPEN, now, *[v for row in chunk for v in row], *programme_ids],
            )
            created += max(cursor.rowcount, 0)
    return created


def _insert_deadlines(month: date, provinces: set[int]) -> int:
    """INSERT … SELECT of the missing deadlines of the month's cycles, with the due dates of each
    province's calendar (computed once per province and kind), ON CONFLICT DO NOTHING."""
    calendars = _calendars(provinces)
    rows = [(f"/{pid}/%", kind, due) for pid, cal in calendars.items() for kind, due in due_dates(cal, month).items()]
    if not rows:
        return 0
    q = connection.ops.quote_name
    cycles, deadlines = q(PaymentCycle._meta.db_table), q(CycleDeadline._meta.db_table)
    created = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, CHUNK):
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {deadlines} (cycle_id, kind, due_date, area_path) "  # noqa: S608
                f"SELECT c.id, d.column2, d.column3, c.area_path FROM {cycles} c "
                f"JOIN (VALUES {values}) AS d ON c.area_path LIKE d.column1 "
                f"WHERE c.month = %s ON CONFLICT DO NOTHING",
                [*[v for row in chunk for v in row], month],
            )
            created += max(cursor.rowcount, 0)
    return created


@transaction.atomic
def open_cycles(*, actor, month: date, area: Area | None = None, programmes: list[Programme] | None = None) -> dict:
    """Open the cycles of `month` (the month the allowance is for): one per approving unit
    (Responsibility APPROVE in force on the month's first day) and programme with monthly
    allowances, each with its deadlines from its province's calendar. Set-based (a few
    INSERT … SELECT statements whatever the number of units) and idempotent: a cycle or a
    deadline already there is left alone, and the unique constraints make concurrent runs safe.
    With `area`, only the units responsible in that area (or for it); with `programmes`, only
    those of them that have monthly allowances (default: every such programme)."""
    month = first_of_month(month)
    units: dict[int, Area] = {}
    shared: set[int] = set()
    for resp in _approving_responsibilities(month, area):
        if resp.org_unit_id in units:
            shared.add(resp.org_unit_id)  # one cycle per unit: it keeps its first (highest) area
            continue
        units[resp.org_unit_id] = resp.area
    monthly = Programme.objects.filter(categories__kind=Kind.MONTHLY)
    if programmes is not None:
        monthly = monthly.filter(pk__in=[p.pk for p in programmes])
    programmes = list(monthly.distinct().order_by("code"))
    created = _insert_cycles(month, units, [p.pk for p in programmes])
    deadlines = _insert_deadlines(month, {province_id_of(where.path) for where in units.values()})
    total = PaymentCycle.objects.filter(month=month, approving_unit_id__in=list(units)).count() if units else 0
    summary = {
        "month": f"{month:%Y-%m}",
        "area": area.code if area is not None else "",
        "approving_units": len(units),
        "programmes": [p.code for p in programmes],
        "cycles": total,
        "cycles_created": created,
        "deadlines_created": deadlines,
        "units_with_several_areas": len(shared),
    }
    if created or deadlines:
        record(actor=actor, action="payroll.cycles.opened", area=area, after=summary)
    return summary


# --- transitions ---------------------------------------------------------------------------------

Check = Callable[[PaymentCycle], "str | None"]
CHECKS: dict[tuple[str, str], list[Check]] = {}


def register_check(source: str, target: str) -> Callable[[Check], Check]:
    if target not in TRANSITIONS.get(source, {}):
        raise ValueError(f"no transition {source} → {target} in the map")

    def decorator(check: Check) -> Check:
        CHECKS.setdefault((source, target), []).append(check)
        return check

    return decorator


def _needs(what: Promise) -> Check:
    """A check for a step whose data a later part of the payment cycle builds: it refuses, naming
    what is missing."""

    def check(cycle: PaymentCycle) -> str:
        return _("This step needs %(what)s, which the system does not record yet; the cycle stays as it is.") % {
            "what": what
        }

    check.needs = what  # type: ignore[attr-defined]
    return check


# What each step needs that later parts build (issue 10 parts 2, 3 and 5; transfer, cash and
# settlement issues). Replace the entry when the data exists. The transfer edges' checks live in
# ansinh.disbursement.checks.
# The settlement edges' checks live in ansinh.reconciliation.settlement and .office_settlement.
NEEDS: dict[tuple[str, str], Promise] = {}
for (_source, _target), _what in NEEDS.items():
    register_check(_source, _target)(_needs(_what))


# The change-list edges (issue 10 part 2): the rules live in `changelists`.
@register_check(S.OPEN, S.CHANGES_SUBMITTED)
def _change_lists_submitted(cycle: PaymentCycle) -> str | None:
    """Every commune of the cycle has its list submitted, accepted or replaced by its last
    accepted list (a commune that missed its deadline)."""
    from .changelists import check_submitted

    return check_submitted(cycle)


@register_check(S.CHANGES_SUBMITTED, S.OPEN)
def _change_list_returned(cycle: PaymentCycle) -> str | None:
    """At least one commune's list was returned with the office's comments."""
    from .changelists import check_returned

    return check_returned(cycle)


@register_check(S.CHANGES_SUBMITTED, S.APPRAISED)
def _change_lists_accepted(cycle: PaymentCycle) -> str | None:
    """Every commune's list accepted, or its last accepted list used (overdue recorded)."""
    from .changelists import check_accepted

    return check_accepted(cycle)


@register_check(S.APPRAISED, S.PAYROLL_GENERATED)
def _payroll_generated(cycle: PaymentCycle) -> str | None:
    """The lines exist: `generation.generate_payroll` writes them (and its summary, the
    cycle's PayrollRun) before it moves the cycle; the plain step never generates anything."""
    from .models import PayrollRun

    if not PayrollRun.objects.filter(cycle=cycle).exists():
        return _("Generate the payroll first (button “Generate the payroll”).")
    return None


@register_check(S.APPROVED, S.FUNDED)
def _advances_cover_the_request(cycle: PaymentCycle) -> str | None:
    """Funded: the funding request exists (`funding.make_funding_request`) and the advances
    recorded from the treasury cover its total; otherwise the sentence names the shortfall."""
    from .funding import advanced_total, shortfall_message
    from .models import FundingRequest

    funding = FundingRequest.objects.filter(cycle=cycle).first()
    if funding is None:
        return _("Make the funding request first (button “Make the funding request”).")
    received = advanced_total(cycle)
    if received < funding.total:
        return shortfall_message(funding, received)
    return None


@register_check(S.FUNDED, S.SENT_TO_PROVIDER)
def _contract_in_force(cycle: PaymentCycle) -> str | None:
    """Paying needs a contract for monthly allowances in force in the cycle's month that serves
    the cycle's area (or the area it lies in, or a part of it)."""
    if contract_for(cycle) is None:
        return _("No contract with a payment provider for monthly allowances covers %(area)s in %(month)s.") % {
            "area": cycle.area.full_name,
            "month": f"{cycle.month:%m/%Y}",
        }
    return None


def contract_for(cycle: PaymentCycle, purpose: str = ContractPurpose.REGULAR) -> ProviderContract | None:
    return (
        ProviderContract.objects.filter(purpose=purpose, valid_from__lte=cycle.month, valid_to__gte=cycle.month)
        .filter(Q(areas__in=cycle.area.ancestor_ids()) | Q(areas__path__startswith=cycle.area_path))
        .order_by("-valid_from", "pk")
        .first()
    )


def capability_for(cycle: PaymentCycle, to_state: str) -> str:
    try:
        return TRANSITIONS[cycle.state][to_state]
    except KeyError:
        raise InvalidTransition(
            _("A cycle cannot go from “%(source)s” to “%(target)s”.")
            % {"source": S(cycle.state).label, "target": S(to_state).label if to_state in S.values else to_state}
        ) from None


def may_move(user, cycle: PaymentCycle, to_state: str) -> bool:
    cap = TRANSITIONS.get(cycle.state, {}).get(to_state)
    return cap is not None and access.can_in_area(user, cap, cycle.area)


def _audit_after(cycle: PaymentCycle) -> dict:
    return {
        "state": cycle.state,
        "programme": cycle.programme.code,
        "month": cycle.month.isoformat(),
        "unit": cycle.approving_unit.short_name or cycle.approving_unit.name,
    }


def mark_deadlines(cycle: PaymentCycle) -> None:
    """Mark the cycle's deadlines met up to its state (and, going back, no longer met after it)."""
    order = STATE_ORDER[cycle.state]
    met = [k for k, st in DEADLINE_MET_AT.items() if STATE_ORDER[st] <= order]
    unmet = [k for k in DEADLINE_MET_AT if k not in met]
    CycleDeadline.objects.filter(cycle=cycle, kind__in=met, done_at__isnull=True).update(done_at=cycle.state_changed_at)
    CycleDeadline.objects.filter(cycle=cycle, kind__in=unmet, done_at__isnull=False).update(done_at=None)


@transaction.atomic
def transition(*, actor, cycle: PaymentCycle, to_state: str, note: str = "") -> PaymentCycle:
    """Move `cycle` to `to_state`: the edge must be in the map, the actor must hold its capability
    in the cycle's area (a system run, actor None, may), and every check of the edge must pass.
    Marks the deadlines met (or, going back, no longer met) and writes the audit event."""
    cycle = (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )
    source = cycle.state
    cap = capability_for(cycle, to_state)
    if actor is not None and not access.can_in_area(actor, cap, cycle.area):
        raise TransitionForbidden(_("Your role does not allow this step of the payment cycle here."))
    refusals = [m for check in CHECKS.get((source, to_state), []) if (m := check(cycle))]
    if refusals:
        raise TransitionRefused(" ".join(refusals))
    cycle.set_state(to_state)
    cycle.state_changed_at = timezone.now()
    cycle.save(update_fields=["state", "state_changed_at"])
    mark_deadlines(cycle)
    after = _audit_after(cycle)
    record(
        actor=actor,
        action="payroll.cycle.transitioned",
        obj=cycle,
        area=cycle.area,
        before={"state": source},
        after=after,
        note=note[:2000],
    )
    return cycle


# --- the payment calendar -------------------------------------------------------------------------


@dataclass
class CalendarInput:
    days: dict[str, int] = field(default_factory=dict)  # DeadlineKind → day of the month
    non_working_rule: str = NonWorkingRule.PREVIOUS
    remind_days_before: int = 1


def _calendar_snapshot(cal: PaymentCalendar) -> dict:
    data = {f"{k}_day": cal.day_of(k) for k in DeadlineKind.values}
    return data | {"non_working_rule": cal.non_working_rule, "remind_days_before": cal.remind_days_before}


@transaction.atomic
def update_calendar(*, actor, province: Area, data: CalendarInput, today: date | None = None) -> dict:
    """Set a province's calendar and move the due dates of the deadlines not yet met of its cycles
    from the current month on (set-based); earlier months keep theirs. Returns what changed."""
    errors: dict[str, list[str]] = {}
    if province.level != "province":
        errors["province"] = [_("A payment calendar belongs to a province.")]
    for kind in DeadlineKind.values:
        day = data.days.get(kind)
        if not isinstance(day, int) or not 1 <= day <= 28:
            errors[f"{kind}_day"] = [_("Enter a day from 1 to 28 (every month has it).")]
    if data.non_working_rule not in NonWorkingRule.values:
        errors["non_working_rule"] = [_("Choose how a deadline on a day off moves.")]
    if not 0 <= data.remind_days_before <= 10:
        errors["remind_days_before"] = [_("Enter a number of working days from 0 to 10.")]
    if errors:
        raise ValidationError(errors)
    cal = PaymentCalendar.objects.select_for_update().filter(province=province).first()
    before = _calendar_snapshot(cal) if cal is not None else None
    if cal is None:
        cal = PaymentCalendar(province=province)
    for kind, day in data.days.items():
        setattr(cal, f"{kind}_day", day)
    cal.non_working_rule = data.non_working_rule
    cal.remind_days_before = data.remind_days_before
    cal.area_path = province.path
    cal.save()
    after = _calendar_snapshot(cal)
    month = first_of_month(today or timezone.localdate())
    moved = []
    open_deadlines = CycleDeadline.objects.filter(
        done_at__isnull=True, area_path__startswith=province.path, cycle__month__gte=month
    ).select_related("cycle")
    per_month: dict[date, dict[str, date]] = {}
    for d in open_deadlines:
        dates = per_month.setdefault(d.cycle.month, due_dates(cal, d.cycle.month))
        if d.due_date != dates[d.kind]:
            d.due_date = dates[d.kind]
            moved.append(d)
    CycleDeadline.objects.bulk_update(moved, ["due_date"], batch_size=1000)
    if before != after:
        record(
            actor=actor,
            action="payroll.calendar.changed",
            obj=cal,
            area=province,
            before=before,
            after=after | {"deadlines_moved": len(moved)},
        )
    return {"calendar": cal.pk, "deadlines_moved": len(moved)}


# --- provider contracts ---------------------------------------------------------------------------

PAYER_KINDS = (OrgKind.APPROVING_OFFICE, OrgKind.COMMUNE_COMMITTEE, OrgKind.PROVINCE_DEPARTMENT)


@dataclass
class ContractInput:
    number: str
    paying_unit: OrgUnit
    provider: OrgUnit
    areas: list[Area]
    purpose: str
    valid_from: date
    valid_to: date
    fee_kind: str
    fee_flat: int = 0
    fee_basis_points: int = 0
    covers_account: bool = True
    covers_pay_point: bool = True
    covers_home: bool = True
    transfer_day: int = 8
    payment_day: int = 15
    settlement_day: int = 20
    signed_on: date | None = None
    provider_account_number: str = ""
    provider_institution: Institution | None = None
    wrong_payments: str = ""
    note: str = ""


def _contract_errors(data: ContractInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.number.strip():
        add("number", _("Enter the contract number."))
    if data.provider.kind != OrgKind.PROVIDER:
        add("provider", _("The provider must be an organisation unit of kind payment service provider."))
    if data.paying_unit.kind not in PAYER_KINDS:
        add("paying_unit", _("The paying unit must be an office, a commune People's Committee or a department."))
    if data.valid_to < data.valid_from:
        add("valid_to", _("The end date must not be before the start date."))
    if data.purpose not in ContractPurpose.values:
        add("purpose", _("Choose what the contract is for."))
    if data.fee_kind == FeeKind.FLAT:
        if data.fee_flat < 0 or data.fee_basis_points:
            add("fee_flat", _("A flat fee is a whole number of đồng, 0 or more, and no percentage."))
    elif data.fee_kind == FeeKind.PERCENT:
        if not 0 <= data.fee_basis_points <= 10_000 or data.fee_flat:
            add("fee_basis_points", _("A percentage fee is 0 to 10,000 basis points (0 to 100 %) and no flat amount."))
    else:
        add("fee_kind", _("Choose the fee rule."))
    for name in ("transfer_day", "payment_day", "settlement_day"):
        if not 1 <= getattr(data, name) <= 31:
            add(name, _("Enter a day from 1 to 31."))
    if not (data.covers_account or data.covers_pay_point or data.covers_home):
        add("covers_account", _("The contract must cover at least one way of paying."))
    account = normalize_number(data.provider_account_number)
    if account and not (account.isalnum() and 6 <= len(account) <= 34):
        add("provider_account_number", _("An account number has 6 to 34 digits or letters."))
    if bool(account) != (data.provider_institution is not None):
        add("provider_account_number", _("Give the provider's funded account with its bank, or neither."))
    if not data.areas:
        add("areas", _("Choose the areas the provider serves under the contract."))
    else:
        resp_paths = Responsibility.objects.filter(org_unit=data.paying_unit).values_list("area__path", flat=True)
        served = [data.paying_unit.area.path, *resp_paths]
        outside = [a.full_name for a in data.areas if not any(a.path.startswith(p) for p in served)]
        if outside:
            add("areas", _("Outside the paying unit's areas: %(areas)s.") % {"areas": ", ".join(outside)})
    return errors


@transaction.atomic
def create_contract(*, actor, data: ContractInput) -> ProviderContract:
    """Record a provider contract. No two contracts of the same paying unit and purpose may be
    in force on the same day: the paying unit's row is locked while the overlap is checked (and
    on PostgreSQL an exclusion constraint says the same)."""
    errors = _contract_errors(data)
    if errors:
        raise ValidationError(errors)
    OrgUnit.objects.select_for_update().filter(pk=data.paying_unit.pk).first()
    overlapping = ProviderContract.objects.filter(
        paying_unit=data.paying_unit,
        purpose=data.purpose,
        valid_from__lte=data.valid_to,
        valid_to__gte=data.valid_from,
    ).first()
    if overlapping is not None:
        raise ValidationError(
            {
                "valid_from": [
                    _(
                        "Contract %(number)s of this paying unit for the same purpose is in force "
                        "from %(start)s to %(end)s."
                    )
                    % {
                        "number": overlapping.number,
                        "start": f"{overlapping.valid_from:%d/%m/%Y}",
                        "end": f"{overlapping.valid_to:%d/%m/%Y}",
                    }
                ]
            }
        )
    contract = ProviderContract.objects.create(
        number=data.number.strip(),
        signed_on=data.signed_on,
        paying_unit=data.paying_unit,
        provider=data.provider,
        area_path=data.paying_unit.area.path,
        purpose=data.purpose,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        covers_account=data.covers_account,
        covers_pay_point=data.covers_pay_point,
        covers_home=data.covers_home,
        fee_kind=data.fee_kind,
        fee_flat=data.fee_flat if data.fee_kind == FeeKind.FLAT else 0,
        fee_basis_points=data.fee_basis_points if data.fee_kind == FeeKind.PERCENT else 0,
        transfer_day=data.transfer_day,
        payment_day=data.payment_day,
        settlement_day=data.settlement_day,
        provider_account_number=normalize_number(data.provider_account_number),
        provider_institution=data.provider_institution,
        wrong_payments=data.wrong_payments,
        note=data.note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    contract.areas.set(data.areas)
    after = snapshot(contract, [f.name for f in ProviderContract._meta.concrete_fields if f.name != "area_path"])
    after |= {"provider_name": str(data.provider), "paying_unit_name": str(data.paying_unit)}
    record(actor=actor, action="payroll.contract.created", obj=contract, area=data.paying_unit.area, after=after)
    return contract
