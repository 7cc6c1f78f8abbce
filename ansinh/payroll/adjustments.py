"""Arrears (truy lĩnh), recoveries (thu hồi) and funeral support lines, and the record of what an
approved payroll paid (`PaidMonth`), from which later arrears and recoveries are computed:
entitled now − paid, month by month, so that no month is paid twice and none is skipped.
See docs/payment-cycle.md, "Arrears, recoveries, funeral support".

- Owed for a past month M' (before the cycle's month, in which a payroll of the programme
  covering the beneficiary's area was approved): entitled(M') − paid(M') + recovery already
  opened for M'. entitled(M') comes from the one entitlement function (`PolicyMonth` of M',
  memoised per distinct (month, province, claims, age)); paid(M') is the sum of `PaidMonth`.
  Positive: one ARREARS line per beneficiary and cycle (`months` = {"YYYY-MM": amount}).
  Negative: a `Receivable` (against whoever received the money) for the months not yet covered.
- Candidates are few and found set-based: people whose records changed since the last approved
  payroll was generated, with a change item on this cycle's lists, of a commune that was paid
  from its last list, or paid now without a paid month for the last approved month.
- Open receivables are deducted from the cycle's positive amount (regular + arrears) up to the
  province's `recovery_share_percent`: one RECOVERY line per beneficiary and cycle.
  `apply_recoveries` (at approval) adds the deductions to the receivables' `recovered`.
- Funeral support recorded with a death is paid once, as a FUNERAL line of the next cycle."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from django.db import connection
from django.db.models import Exists, Min, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.audit.models import AuditEvent
from ansinh.audit.services import build_event, record, record_many
from ansinh.core.money import format_vnd
from ansinh.policy.entitlement import Claim, PolicyMonth, age_in_years
from ansinh.policy.models import Category
from ansinh.registry.rules import add_months

from .models import (
    STATE_ORDER,
    ChangeItem,
    ChangeKind,
    ChangeListState,
    Channel,
    CycleState,
    FuneralState,
    FuneralSupport,
    LineType,
    PaidMonth,
    PaymentCalendar,
    PaymentCycle,
    PayrollLine,
    PayrollRun,
    Receivable,
    ReceivableReason,
    ReceivableState,
)
from .scope import beneficiary_in_communes_q, beneficiary_in_cycle_q, is_legacy, places

S = CycleState
CHUNK = 1000
APPROVED_STATES = [s for s in S.values if STATE_ORDER[s] >= STATE_ORDER[S.APPROVED]]
MANUAL_KEY = "manual"  # the arrears `months` key of positive manual adjustments (not a paid month)
APPLIED_ACTION = "payroll.recoveries.applied"


def month_key(month: date) -> str:
    return f"{month:%Y-%m}"


def parse_month_key(key: str) -> date | None:
    try:
        year, month = (int(p) for p in key.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return None


def _province_id(path: str) -> int:
    return int(path.strip("/").split("/")[0])


def record_paid_months(cycle: PaymentCycle) -> int:
    """Write the PaidMonth rows of an approved cycle (idempotent): a regular line pays the
    cycle's month; an arrears line pays the months of its `months` map (not its manual part).
    Set-based for the regular lines (one INSERT … SELECT), a bulk insert for the few arrears lines."""
    PaidMonth.objects.filter(line__cycle=cycle).delete()
    q = connection.ops.quote_name
    lines, paid = q(PayrollLine._meta.db_table), q(PaidMonth._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {paid} (beneficiary_id, programme_id, month, amount, line_id) "  # noqa: S608
            f"SELECT l.beneficiary_id, %s, %s, l.amount, l.id FROM {lines} l "
            f"WHERE l.cycle_id = %s AND l.line_type = %s",
            [cycle.programme_id, cycle.month, cycle.pk, LineType.REGULAR],
        )
        written = max(cursor.rowcount, 0)
    rows = []
    for line_id, beneficiary_id, months in PayrollLine.objects.filter(
        cycle=cycle, line_type=LineType.ARREARS
    ).values_list("id", "beneficiary_id", "months"):
        for key, amount in sorted((months or {}).items()):
            month = parse_month_key(key)
            if month is None:  # the manual part: not a month's allowance
                continue
            rows.append(
                PaidMonth(
                    beneficiary_id=beneficiary_id,
                    programme_id=cycle.programme_id,
                    month=month,
                    amount=int(amount),
                    line_id=line_id,
                )
            )
    PaidMonth.objects.bulk_create(rows, batch_size=1000)
    return written + len(rows)


# --- the months the system paid, and who is a candidate -----------------------------------------


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _approved_cycles(cycle: PaymentCycle) -> list[tuple[int, date, str]]:
    """The approved cycles of the programme before the cycle's month that cover (part of) its area."""
    return list(
        PaymentCycle.objects.filter(programme_id=cycle.programme_id, month__lt=cycle.month, state__in=APPROVED_STATES)
        .filter(Q(area_path__in=_ancestor_paths(cycle.area_path)) | Q(area_path__startswith=cycle.area_path))
        .values_list("pk", "month", "area_path")
    )


def _since(approved: list[tuple[int, date, str]]) -> tuple[date, datetime | None, list[int]]:
    """The last approved month, when its payroll was generated (the earliest of its cycles), and its cycles."""
    last = max(m for _pk, m, _p in approved)
    ids = [pk for pk, m, _p in approved if m == last]
    at = PayrollRun.objects.filter(cycle_id__in=ids).aggregate(at=Min("generated_at"))["at"]
    if at is None:
        at = PaymentCycle.objects.filter(pk__in=ids).aggregate(at=Min("opened_at"))["at"]
    return last, at, ids


def _candidates(
    cycle: PaymentCycle, last_month: date, since, last_ids: list[int], skip_communes: set[int]
) -> list[int]:
    """Beneficiaries whose past months may be owed or overpaid: few, found set-based."""
    from ansinh.registry.models import Beneficiary, Decision, StatusChange

    from .models import ChangeList

    in_area = beneficiary_in_cycle_q(cycle, "beneficiary__")
    here = beneficiary_in_cycle_q(cycle)
    ids: set[int] = set()
    ids.update(Decision.objects.filter(in_area, created_at__gte=since).values_list("beneficiary_id", flat=True))
    ids.update(StatusChange.objects.filter(in_area, at__gte=since).values_list("beneficiary_id", flat=True))
    ids.update(Beneficiary.objects.filter(here, updated_at__gte=since).values_list("pk", flat=True))
    ids.update(ChangeItem.objects.filter(change_list__cycle=cycle).values_list("beneficiary_id", flat=True))
    late_communes = ChangeList.objects.filter(cycle_id__in=last_ids, used_previous=True).values_list(
        "commune_id", flat=True
    )
    ids.update(
        Beneficiary.objects.filter(here, beneficiary_in_communes_q(cycle, late_communes)).values_list("pk", flat=True)
    )
    # paid now, started by the last approved month, but nothing paid for it (a PaidMonth gap)
    paid_last = PaidMonth.objects.filter(
        beneficiary_id=OuterRef("beneficiary_id"), programme_id=cycle.programme_id, month=last_month
    )
    ids.update(
        PayrollLine.objects.filter(cycle=cycle, line_type=LineType.REGULAR, beneficiary__start_month__lte=last_month)
        .filter(~Exists(paid_last))
        .values_list("beneficiary_id", flat=True)
    )
    ids.update(_replaceable(cycle).values_list("beneficiary_id", flat=True))
    if skip_communes:
        ids -= set(
            Beneficiary.objects.filter(beneficiary_in_communes_q(cycle, skip_communes), pk__in=ids).values_list(
                "pk", flat=True
            )
        )
    return sorted(ids)


def _replaceable(cycle: PaymentCycle):
    """Receivables detected by this cycle's draft that nobody acted on: regenerating the draft
    re-derives them (kept when still owed, deleted when not)."""
    return Receivable.objects.filter(
        detected_in=cycle, state=ReceivableState.OPEN, recovered=0, write_off_requested_by__isnull=True
    )


# --- entitled(M') ------------------------------------------------------------------------------------


class _Entitled:
    """entitled(person, month) from the one entitlement function, memoised per distinct
    (month, province, claims, age): the registry's months (start, last paid month), the status
    history (suspended or stopped that month) and the claims in force that month."""

    def __init__(self, province_id: int):
        self.province_id = province_id
        self.policies: dict[date, PolicyMonth] = {}
        self.memo: dict = {}
        self.evaluations = 0

    def __call__(self, person: dict, month: date):
        if month < person["start_month"] or (person["end_month"] is not None and month > person["end_month"]):
            return None
        status = None
        for effective, to_status in person["history"]:
            if effective <= month:
                status = to_status
        if status in ("suspended", "stopped"):
            return None
        claims = tuple(
            sorted(
                (c for f, t, c in person["claims"] if f <= month and (t is None or t >= month)),
                key=lambda c: (c.category_code, c.condition, c.units, c.fixed_key),
            )
        )
        if not claims:
            return None
        pid = _province_id(person["place_path"])
        key = (month, pid, claims, age_in_years(person["birth_date"], month))
        if key not in self.memo:
            policy = self.policies.get(month)
            if policy is None:
                policy = self.policies[month] = PolicyMonth.load(month, provinces=[pid])
            self.memo[key] = policy.table(pid).entitlement(claims, person["birth_date"])
            self.evaluations += 1
        return self.memo[key]


def _people(cycle: PaymentCycle, ids: list[int]) -> dict[int, dict]:
    """The candidates' registry data, claims and status history; `place_path` and
    `place_commune_id` are where the cycle puts them (`scope.places`: the pre-2025 commune for
    a pre-2025 cycle), `area_path` and `commune_id` where they are kept now."""
    from ansinh.registry.models import Beneficiary, BeneficiaryCategory, StatusChange

    programme_id = cycle.programme_id
    people: dict[int, dict] = {
        pk: {
            "full_name": name,
            "birth_date": birth,
            "area_path": path,
            "commune_id": commune_id,
            "start_month": start,
            "end_month": end,
            "stop_reason": stop_reason,
            "claims": [],
            "history": [],
        }
        for pk, name, birth, path, commune_id, start, end, stop_reason in Beneficiary.objects.filter(
            pk__in=ids
        ).values_list(
            "pk", "full_name", "birth_date", "area_path", "commune_id", "start_month", "end_month", "stop_reason"
        )
    }
    for bid, code, condition, units, fixed_key, f, t in BeneficiaryCategory.objects.filter(
        beneficiary_id__in=ids, category__programme_id=programme_id
    ).values_list("beneficiary_id", "category__code", "condition", "units", "fixed_key", "from_month", "to_month"):
        people[bid]["claims"].append(
            (f, t, Claim(category_code=code, condition=condition, units=units, fixed_key=fixed_key))
        )
    for bid, effective, to_status in (
        StatusChange.objects.filter(beneficiary_id__in=ids)
        .order_by("beneficiary_id", "effective_month", "id")
        .values_list("beneficiary_id", "effective_month", "to_status")
    ):
        people[bid]["history"].append((effective, to_status))
    for bid, (path, commune_id) in places(cycle, list(people)).items():
        people[bid] |= {"place_path": path, "place_commune_id": commune_id}
    return people


def _covered(months_json) -> list[tuple[date, int]]:
    out = []
    for item in months_json or []:
        if isinstance(item, dict) and item.get("month"):
            month = parse_month_key(str(item["month"]))
            if month is not None:
                out.append((month, int(item.get("amount") or 0)))
    return out


def _reason(person: dict, month: date, entitled: int) -> str:
    end = person["end_month"]
    if end is not None and month > end and person["stop_reason"] == "died":
        return ReceivableReason.PAID_AFTER_DEATH
    if entitled == 0:
        return ReceivableReason.PAID_AFTER_STOP
    return ReceivableReason.AMOUNT_LOWERED


_REASON_RANK = {
    ReceivableReason.PAID_AFTER_DEATH: 0,
    ReceivableReason.PAID_AFTER_STOP: 1,
    ReceivableReason.AMOUNT_LOWERED: 2,
}


# --- payee and channel of adjustment lines ---------------------------------------------------------


_LINE_FIELDS = (
    "representation_id",
    "payee_name",
    "channel",
    "account_id",
    "account_institution",
    "account_last4",
    "account_holder",
)


def _payment_fields(cycle: PaymentCycle, ids: list[int], people: dict[int, dict]) -> dict[int, dict]:
    """Payee and channel for adjustment lines: those of the person's regular line in this cycle,
    else the payee and method of the cycle's month (payments.queries)."""
    from ansinh.payments.models import Method
    from ansinh.payments.queries import method_on, payee_on

    out: dict[int, dict] = {}
    for row in PayrollLine.objects.filter(cycle=cycle, line_type=LineType.REGULAR, beneficiary_id__in=ids).values_list(
        "beneficiary_id", *_LINE_FIELDS
    ):
        out[row[0]] = dict(zip(_LINE_FIELDS, row[1:], strict=True))
    rest = [b for b in ids if b not in out]
    if rest:
        methods, payees = method_on(rest, cycle.month), payee_on(rest, cycle.month)
        channel_of = {Method.ACCOUNT: Channel.ACCOUNT, Method.PAY_POINT: Channel.PAY_POINT, Method.HOME: Channel.HOME}
        for bid in rest:
            pm, rep = methods.get(bid), payees.get(bid)
            fields = {
                "representation_id": rep.pk if rep is not None else None,
                "payee_name": rep.representative.full_name if rep is not None else people[bid]["full_name"],
                "channel": channel_of.get(Method(pm.method), Channel.PAY_POINT) if pm else Channel.PAY_POINT,
                "account_id": None,
                "account_institution": "",
                "account_last4": "",
                "account_holder": "",
            }
            if pm is not None and pm.account is not None and fields["channel"] == Channel.ACCOUNT:
                fields |= {
                    "account_id": pm.account.pk,
                    "account_institution": pm.account.institution.code,
                    "account_last4": pm.account.last4,
                    "account_holder": pm.account.holder_name,
                }
            out[bid] = fields
    return out


def _months_text(keys) -> str:
    shown = []
    for key in sorted(keys):
        month = parse_month_key(key)
        shown.append(f"{month:%m/%Y}" if month else _("manual adjustment"))
    return ", ".join(shown)


# --- the adjustment pass -------------------------------------------------------------------------


def add_adjustment_lines(cycle: PaymentCycle, *, actor, stats: dict) -> None:
    """Add the cycle's arrears, recovery and funeral lines after its regular lines (called by
    `generation.generate_payroll` inside its transaction, under the cycle's lock; the cycle's
    draft lines were deleted before). Counts go into `stats`."""
    for key in ("adjustment_candidates", "arrears_lines", "receivables_detected", "recovery_lines", "funeral_lines"):
        stats.setdefault(key, 0)
    arrears: dict[int, dict[str, int]] = defaultdict(dict)
    basis: dict[int, dict] = {}
    people: dict[int, dict] = {}
    kept: set[int] = set()
    approved = _approved_cycles(cycle)
    replaceable = set(_replaceable(cycle).values_list("pk", flat=True))  # before anything is created
    from .models import ChangeList

    skip_communes = set(ChangeList.objects.filter(cycle=cycle, used_previous=True).values_list("commune_id", flat=True))
    if approved:
        last_month, since, last_ids = _since(approved)
        ids = _candidates(cycle, last_month, since, last_ids, skip_communes)
        stats["adjustment_candidates"] = len(ids)
        entitled = _Entitled(_province_id(cycle.area_path))
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            chunk_people = _people(cycle, chunk)
            people.update(chunk_people)
            kept |= _owed_for_chunk(cycle, chunk_people, approved, entitled, arrears, basis, actor, stats)
        stats["evaluations"] = stats.get("evaluations", 0) + entitled.evaluations
    kept |= _manual_items(cycle, arrears, actor, stats)
    stale = Receivable.objects.filter(pk__in=replaceable - kept)
    record_many(
        [
            build_event(
                actor=actor,
                action="payroll.receivable.withdrawn",
                obj=receivable,
                area=receivable.beneficiary.commune,
                before={
                    "amount": receivable.amount,
                    "months": receivable.months,
                    "name": receivable.beneficiary.full_name,
                    "debtor": receivable.debtor_name,
                },
            )
            for receivable in stale.select_related("beneficiary__commune")
        ]
    )
    stale.delete()
    _write_arrears(cycle, arrears, basis, people, stats)
    _write_recoveries(cycle, stats)
    _write_funeral(cycle, stats)


def _owed_for_chunk(cycle, people, approved, entitled, arrears, basis, actor, stats) -> set[int]:
    ids = list(people)
    prog = cycle.programme_id
    paid: dict[int, dict[date, list]] = defaultdict(lambda: defaultdict(list))
    for bid, month, amount, rep_id, payee in PaidMonth.objects.filter(
        beneficiary_id__in=ids, programme_id=prog, month__lt=cycle.month
    ).values_list("beneficiary_id", "month", "amount", "line__representation_id", "line__payee_name"):
        paid[bid][month].append((amount, rep_id, payee))
    covered: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    replaceable: dict[tuple, int] = {}
    replaceable_ids = set(_replaceable(cycle).values_list("pk", flat=True))
    for pk, bid, months, rep_id in (
        Receivable.objects.filter(beneficiary_id__in=ids, programme_id=prog)
        .exclude(reason=ReceivableReason.MANUAL)
        .values_list("pk", "beneficiary_id", "months", "representation_id")
    ):
        if pk in replaceable_ids:
            replaceable[(bid, rep_id, _freeze(months))] = pk
            continue
        for month, amount in _covered(months):
            covered[bid][month] += amount
    pending: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for bid, months in (
        PayrollLine.objects.filter(
            beneficiary_id__in=ids,
            line_type=LineType.ARREARS,
            cycle__programme_id=prog,
            cycle__state=S.PAYROLL_GENERATED,
        )
        .exclude(cycle=cycle)
        .values_list("beneficiary_id", "months")
    ):
        for key, amount in (months or {}).items():
            pending_month = parse_month_key(key)
            if pending_month is not None:
                pending[bid][pending_month] += int(amount)
    kept: set[int] = set()
    new: list[tuple[Receivable, dict]] = []
    for bid, person in people.items():
        paths_months = {m for _pk, m, path in approved if person["place_path"].startswith(path)}
        months = {m for m in paths_months if m >= person["start_month"]}
        if person["end_month"] is not None:
            months = {m for m in months if m <= person["end_month"]}
        months |= set(paid[bid]) | set(covered[bid])
        over: dict[tuple, list] = defaultdict(list)
        last_e = None
        for month in sorted(months):
            e = entitled(person, month)
            amount = e.amount if e is not None else 0
            rows = paid[bid].get(month, [])
            diff = amount - (sum(r[0] for r in rows) - covered[bid].get(month, 0))
            if diff > 0 and month in paths_months:
                owed = diff - pending[bid].get(month, 0)
                if owed > 0:
                    arrears[bid][month_key(month)] = owed
                    last_e = e
            elif diff < 0 and rows:
                _amount, rep_id, payee = max(rows, key=lambda r: r[0])
                over[(rep_id, payee)].append((month, -diff, _reason(person, month, amount)))
        if last_e is not None:
            sensitive = {c.category_code for _f, _t, c in person["claims"]}
            basis[bid] = {
                "category": last_e.category_code,
                "categories": sorted(sensitive),
                "explanation": last_e.explanation,
                "sensitive": last_e.sensitive,
            }
        for (rep_id, payee), items in over.items():
            months_json = [{"month": month_key(m), "amount": a} for m, a, _r in items]
            existing = replaceable.get((bid, rep_id, _freeze(months_json)))
            if existing is not None:
                kept.add(existing)
                continue
            reason = min((r for _m, _a, r in items), key=lambda r: _REASON_RANK[r])
            new.append(
                (
                    Receivable(
                        beneficiary_id=bid,
                        programme_id=prog,
                        representation_id=rep_id,
                        debtor_name=payee[:150],
                        reason=reason,
                        months=months_json,
                        amount=sum(a for _m, a, _r in items),
                        detected_in=cycle,
                        area_path=person["area_path"],
                        created_by=actor if getattr(actor, "pk", None) else None,
                    ),
                    person,
                )
            )
    if new:
        Receivable.objects.bulk_create([r for r, _p in new], batch_size=CHUNK)
        _audit_detected(actor, new)
        stats["receivables_detected"] += len(new)
    return kept


def _freeze(months_json) -> tuple:
    return tuple(
        sorted((str(i.get("month")), int(i.get("amount") or 0)) for i in months_json or [] if isinstance(i, dict))
    )


def _audit_detected(actor, new: list[tuple[Receivable, dict]]) -> None:
    from ansinh.areas.models import Area

    communes = Area.objects.in_bulk({p["commune_id"] for _r, p in new})
    record_many(
        [
            build_event(
                actor=actor,
                action="payroll.receivable.detected",
                obj=receivable,
                area=communes.get(person["commune_id"]),
                after={
                    "beneficiary": receivable.beneficiary_id,
                    "name": person["full_name"],
                    "debtor": receivable.debtor_name,
                    "reason": receivable.reason,
                    "months": receivable.months,
                    "amount": receivable.amount,
                },
            )
            for receivable, person in new
        ]
    )


def _manual_items(cycle: PaymentCycle, arrears: dict, actor, stats: dict) -> set[int]:
    """Manual adjustments of the cycle's accepted change lists: a positive amount is paid with
    the arrears line (key "manual"); a negative one opens a receivable (once per item)."""
    items = list(
        ChangeItem.objects.filter(
            change_list__cycle=cycle,
            change_list__state=ChangeListState.ACCEPTED,
            kind=ChangeKind.MANUAL,
            manual_amount__isnull=False,
        )
        .exclude(manual_amount=0)
        .select_related("beneficiary", "beneficiary__commune")
        .order_by("id")
    )
    kept: set[int] = set()
    negative = [i for i in items if (i.manual_amount or 0) < 0]
    known: dict[int, int] = {}
    if negative:
        for pk, months in Receivable.objects.filter(
            reason=ReceivableReason.MANUAL, beneficiary_id__in={i.beneficiary_id for i in negative}
        ).values_list("pk", "months"):
            for entry in months or []:
                if isinstance(entry, dict) and entry.get("change_item"):
                    known[int(entry["change_item"])] = pk
    for item in items:
        adjustment = int(item.manual_amount or 0)
        if adjustment > 0:
            bucket = arrears[item.beneficiary_id]
            bucket[MANUAL_KEY] = bucket.get(MANUAL_KEY, 0) + adjustment
            continue
        if item.pk in known:
            kept.add(known[item.pk])
            continue
        b = item.beneficiary
        receivable = Receivable.objects.create(
            beneficiary=b,
            programme_id=cycle.programme_id,
            debtor_name=b.full_name,
            reason=ReceivableReason.MANUAL,
            months=[{"month": month_key(item.effective_month), "amount": -adjustment, "change_item": item.pk}],
            amount=-adjustment,
            detected_in=cycle,
            area_path=b.area_path,
            note=item.reason[:2000],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        kept.add(receivable.pk)
        stats["receivables_detected"] += 1
        record(
            actor=actor,
            action="payroll.receivable.detected",
            obj=receivable,
            area=b.commune,
            after={
                "beneficiary": b.pk,
                "name": b.full_name,
                "debtor": receivable.debtor_name,
                "reason": receivable.reason,
                "amount": receivable.amount,
            },
            note=item.reason[:2000],
        )
    return kept


def _write_arrears(cycle: PaymentCycle, arrears: dict, basis: dict, people: dict, stats: dict) -> None:
    arrears = {bid: months for bid, months in arrears.items() if sum(months.values()) > 0}
    if not arrears:
        return
    ids = sorted(arrears)
    missing = [b for b in ids if b not in people]
    if missing:
        people.update(_people(cycle, missing))
    fields = _payment_fields(cycle, ids, people)
    lines = []
    for bid in ids:
        months = dict(sorted(arrears[bid].items()))
        explanation = _("Arrears for %(months)s") % {"months": _months_text(months)}
        line_basis = dict(basis.get(bid, {}))
        line_basis["explanation"] = (
            f"{explanation} ({line_basis['explanation']})" if line_basis.get("explanation") else explanation
        )
        line_basis.setdefault("sensitive", False)
        lines.append(
            PayrollLine(
                cycle_id=cycle.pk,
                beneficiary_id=bid,
                line_type=LineType.ARREARS,
                amount=sum(months.values()),
                months=months,
                area_path=people[bid]["place_path"],
                commune_id=people[bid]["place_commune_id"],
                basis=line_basis,
                **fields[bid],
            )
        )
    PayrollLine.objects.bulk_create(lines, batch_size=CHUNK)
    stats["arrears_lines"] += len(lines)


def recovery_share(cycle: PaymentCycle) -> int:
    """The province's share (%) of a monthly payment that may go to recovering (default 100)."""
    share = (
        PaymentCalendar.objects.filter(province_id=_province_id(cycle.area_path))
        .values_list("recovery_share_percent", flat=True)
        .first()
    )
    return int(share or 100)


def pending_deductions(receivable_ids, exclude_cycle_id: int | None = None) -> dict[int, int]:
    """What drafts (payrolls generated, not approved) already deduct from these receivables."""
    out: dict[int, int] = defaultdict(int)
    rows = PayrollLine.objects.filter(
        line_type=LineType.RECOVERY, cycle__state=S.PAYROLL_GENERATED, receivable__isnull=False
    )
    if exclude_cycle_id is not None:
        rows = rows.exclude(cycle_id=exclude_cycle_id)
    wanted = {int(r) for r in receivable_ids}
    for basis in rows.filter(
        beneficiary_id__in=Receivable.objects.filter(pk__in=wanted).values("beneficiary_id")
    ).values_list("basis", flat=True):
        for rid, amount in ((basis or {}).get("split") or {}).items():
            if int(rid) in wanted:
                out[int(rid)] += int(amount)
    return out


def _write_recoveries(cycle: PaymentCycle, stats: dict) -> None:
    """One recovery line per beneficiary with open receivables of the programme: up to the
    share of this cycle's positive amount (regular + arrears), oldest receivable first."""
    positive_lines = PayrollLine.objects.filter(
        cycle=cycle, line_type__in=[LineType.REGULAR, LineType.ARREARS], amount__gt=0
    )
    # the open receivables of the cycle's people are few: read them first, then look their lines up
    # by beneficiary (the lines' index), never the cycle's million new lines hashed (their
    # statistics are not yet known in this transaction)
    candidates = list(
        Receivable.objects.filter(programme_id=cycle.programme_id, state=ReceivableState.OPEN)
        .filter(beneficiary_in_cycle_q(cycle, "beneficiary__"))
        .order_by("beneficiary_id", "created_at", "id")
    )
    wanted = sorted({r.beneficiary_id for r in candidates})
    with_lines: set[int] = set()
    for i in range(0, len(wanted), CHUNK):
        with_lines.update(
            positive_lines.filter(beneficiary_id__in=wanted[i : i + CHUNK]).values_list("beneficiary_id", flat=True)
        )
    receivables = [r for r in candidates if r.beneficiary_id in with_lines]
    if not receivables:
        return
    ids = sorted(with_lines)
    positive = dict(
        positive_lines.filter(beneficiary_id__in=ids)
        .values_list("beneficiary_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    pending = pending_deductions([r.pk for r in receivables], exclude_cycle_id=cycle.pk)
    source: dict[int, dict] = {}
    for row in (
        positive_lines.filter(beneficiary_id__in=ids)
        .order_by("beneficiary_id", "line_type")  # "arrears" < "regular": regular wins below
        .values_list("beneficiary_id", "area_path", "commune_id", *_LINE_FIELDS)
    ):
        source[row[0]] = {"area_path": row[1], "commune_id": row[2], **dict(zip(_LINE_FIELDS, row[3:], strict=True))}
    share = recovery_share(cycle)
    by_person: dict[int, list[Receivable]] = defaultdict(list)
    for r in receivables:
        by_person[r.beneficiary_id].append(r)
    lines = []
    for bid in ids:
        room = int(positive.get(bid, 0)) * share // 100
        split: dict[str, int] = {}
        for r in by_person[bid]:
            available = r.amount - r.recovered - pending.get(r.pk, 0)
            take = min(room, available)
            if take > 0:
                split[str(r.pk)] = take
                room -= take
        if not split:
            continue
        total = sum(split.values())
        first = next(iter(split))
        lines.append(
            PayrollLine(
                cycle_id=cycle.pk,
                beneficiary_id=bid,
                line_type=LineType.RECOVERY,
                amount=-total,
                receivable_id=int(first),
                basis={
                    "split": split,
                    "share_percent": share,
                    "explanation": _("Recovery of an overpayment: %(amount)s (at most %(share)s%% of the payment)")
                    % {"amount": format_vnd(total), "share": share},
                    "sensitive": False,
                },
                **source[bid],
            )
        )
    PayrollLine.objects.bulk_create(lines, batch_size=CHUNK)
    stats["recovery_lines"] += len(lines)


def _funeral_category_codes(programme_id: int) -> list[str]:
    return list(
        Category.objects.filter(programme_id=programme_id, code__startswith="FUNERAL.").values_list("code", flat=True)
    )


def _write_funeral(cycle: PaymentCycle, stats: dict) -> None:
    """Funeral support recorded for people of the cycle's area and programme, not yet paid and
    not on another draft: one FUNERAL line to the organiser, at a pay point."""
    on_other_draft = PayrollLine.objects.filter(
        line_type=LineType.FUNERAL, cycle__state=S.PAYROLL_GENERATED, funeral__isnull=False
    ).exclude(cycle=cycle)
    # a current cycle: the funeral support's own path; a pre-2025 one: its beneficiary's pre-2025 commune
    in_area = (
        beneficiary_in_cycle_q(cycle, "beneficiary__") if is_legacy(cycle) else Q(area_path__startswith=cycle.area_path)
    )
    rows = list(
        FuneralSupport.objects.filter(
            in_area,
            state=FuneralState.RECORDED,
            category_code__in=_funeral_category_codes(cycle.programme_id),
            death_date__lt=add_months(cycle.month, 1),
        )
        .exclude(pk__in=on_other_draft.values("funeral_id"))
        .select_related("beneficiary")
    )
    where = places(cycle, [f.beneficiary_id for f in rows])
    lines = [
        PayrollLine(
            cycle_id=cycle.pk,
            beneficiary_id=f.beneficiary_id,
            line_type=LineType.FUNERAL,
            amount=f.amount,
            representation=None,
            payee_name=f.organiser_name,
            channel=Channel.PAY_POINT,
            area_path=where[f.beneficiary_id][0],
            commune_id=where[f.beneficiary_id][1],
            funeral=f,
            basis={
                "category": f.category_code,
                "categories": [f.category_code],
                "explanation": _("Funeral support (died %(date)s)") % {"date": f"{f.death_date:%d/%m/%Y}"},
                "sensitive": False,
            },
        )
        for f in rows
    ]
    PayrollLine.objects.bulk_create(lines, batch_size=CHUNK)
    stats["funeral_lines"] += len(lines)


# --- at approval -------------------------------------------------------------------------------------


def apply_recoveries(cycle: PaymentCycle) -> dict:
    """At approval (called by `approval` inside its transaction): the cycle's recovery lines
    add their deductions to the receivables' `recovered` (closing those fully recovered), and
    its funeral lines mark their funeral support paid. Idempotent: a cycle's recoveries are
    applied once (the audit event of the application is the record)."""
    funeral = FuneralSupport.objects.filter(
        pk__in=PayrollLine.objects.filter(cycle=cycle, line_type=LineType.FUNERAL).values("funeral_id"),
        state=FuneralState.RECORDED,
    ).update(state=FuneralState.PAID)
    applied = AuditEvent.objects.filter(
        action=APPLIED_ACTION, object_type=PaymentCycle._meta.label_lower, object_id=str(cycle.pk)
    ).exists()
    if applied:
        return {"receivables": 0, "recovered": 0, "funeral_paid": funeral, "already_applied": True}
    split: dict[int, int] = defaultdict(int)
    for basis in PayrollLine.objects.filter(cycle=cycle, line_type=LineType.RECOVERY).values_list("basis", flat=True):
        for rid, amount in ((basis or {}).get("split") or {}).items():
            split[int(rid)] += int(amount)
    total = 0
    closed = 0
    now = timezone.now()
    for r in Receivable.objects.select_for_update().filter(pk__in=list(split)).order_by("pk"):
        add = min(split[r.pk], r.amount - r.recovered)
        if add <= 0:
            continue
        r.recovered += add
        total += add
        fields = ["recovered"]
        if r.recovered >= r.amount and r.state in (ReceivableState.OPEN, ReceivableState.WRITE_OFF_REQUESTED):
            r.state, r.closed_at = ReceivableState.RECOVERED, now
            fields += ["state", "closed_at"]
            closed += 1
        r.save(update_fields=fields)
    result = {
        "receivables": len(split),
        "recovered": total,
        "closed": closed,
        "funeral_paid": funeral,
        "month": month_key(cycle.month),
    }
    record(actor=None, action=APPLIED_ACTION, obj=cycle, area=cycle.area, after=result)
    return result
