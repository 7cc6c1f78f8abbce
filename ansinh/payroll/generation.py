"""Generating a cycle's payroll (issue 10 part 3, first slice: regular allowance lines) and the
comparison with last month. See docs/payment-cycle.md, "Payroll generation".

- Who is paid for month M: the beneficiaries of the cycle's area with a category of the cycle's
  programme in force in M, started on or before M, not suspended, and not stopped before M
  (`end_month`, the last paid month, is M or later: the month of death is paid in full,
  nothing after it).
- Amounts come from the one entitlement function (`policy.entitlement.PolicyTable`), evaluated
  once per distinct (province, claims, age in whole years on the 1st of M) and joined in memory
  to the beneficiaries streamed in chunks; never re-coded in SQL.
- Payee and channel from `payments.queries.payee_on` / `method_on` for M, per chunk.
- Idempotent: the cycle's row is locked (select_for_update), its draft lines deleted and
  recreated in one transaction; refused once the payroll is past "payroll generated"."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.payments.models import Method
from ansinh.payments.queries import method_on, payee_on
from ansinh.policy.entitlement import Claim, Entitlement, PolicyMonth, age_in_years
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, StatusChange
from ansinh.registry.models import Status as RegistryStatus

from .fees import fee_for
from .models import Channel, CycleState, LineType, PaymentCycle, PayrollLine, PayrollRun
from .services import TransitionForbidden, contract_for, mark_deadlines, province_id_of, transition

S = CycleState
CHUNK = 1000
GENERATABLE = (S.APPRAISED, S.PAYROLL_GENERATED)
_CHANNEL_OF_METHOD: dict[str, str] = {
    Method.ACCOUNT: Channel.ACCOUNT,
    Method.PAY_POINT: Channel.PAY_POINT,
    Method.HOME: Channel.HOME,
}


class PayrollRefused(DomainError):
    """The payroll cannot be (re)generated now; the message says why."""


def add_months(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def receiving_q(month: date) -> Q:
    """Beneficiaries paid for `month` (registry fields): started on or before it, not suspended,
    and not stopped before it (end_month = the last paid month)."""
    return (
        Q(start_month__lte=month)
        & ~Q(status=RegistryStatus.SUSPENDED)
        & (Q(end_month__isnull=True) | Q(end_month__gte=month))
    )


def _claims_q(cycle: PaymentCycle) -> Q:
    m = cycle.month
    return Q(category__programme_id=cycle.programme_id, from_month__lte=m) & (
        Q(to_month__isnull=True) | Q(to_month__gte=m)
    )


def _beneficiaries(cycle: PaymentCycle):
    with_claim = BeneficiaryCategory.objects.filter(_claims_q(cycle)).values("beneficiary_id")
    return Beneficiary.objects.filter(receiving_q(cycle.month), area_path__startswith=cycle.area_path).filter(
        pk__in=with_claim
    )


def _basis(e: Entitlement, claims: tuple[Claim, ...], sensitive_codes: set[str]) -> dict:
    codes = sorted({c.category_code for c in claims})
    return {
        "category": e.category_code,
        "categories": codes,
        "explanation": e.explanation,
        "sensitive": e.sensitive or any(c in sensitive_codes for c in codes),
    }


def _lines_for_chunk(cycle, rows, policy: PolicyMonth, memo: dict, stats: dict) -> list[PayrollLine]:
    ids = [r[0] for r in rows]
    claims: dict[int, list[Claim]] = defaultdict(list)
    for bid, code, condition, units, fixed_key in (
        BeneficiaryCategory.objects.filter(_claims_q(cycle), beneficiary_id__in=ids)
        .order_by("beneficiary_id", "category__code", "condition", "id")
        .values_list("beneficiary_id", "category__code", "condition", "units", "fixed_key")
    ):
        claims[bid].append(Claim(category_code=code, condition=condition, units=units, fixed_key=fixed_key))
    methods = method_on(ids, cycle.month)
    payees = payee_on(ids, cycle.month)
    sensitive = {code for code, info in policy.categories.items() if info.sensitive}
    out = []
    for bid, full_name, birth_date, commune_id, area_path in rows:
        person_claims = tuple(claims.get(bid, ()))
        pid = province_id_of(area_path)
        key = (pid, person_claims, age_in_years(birth_date, cycle.month))
        if key not in memo:
            memo[key] = policy.table(pid).entitlement(person_claims, birth_date)
            stats["evaluations"] += 1
        e = memo[key]
        if e is None:
            stats["without_entitlement"] += 1
            continue
        pm = methods.get(bid)
        rep = payees.get(bid)
        line = PayrollLine(
            cycle_id=cycle.pk,
            beneficiary_id=bid,
            line_type=LineType.REGULAR,
            amount=e.amount,
            representation=rep,
            payee_name=rep.representative.full_name if rep is not None else full_name,
            channel=_CHANNEL_OF_METHOD.get(pm.method, Channel.PAY_POINT) if pm else Channel.PAY_POINT,
            area_path=area_path,
            commune_id=commune_id,
            basis=_basis(e, person_claims, sensitive),
        )
        if pm is None:
            stats["without_method"] += 1
        elif pm.account is not None and line.channel == Channel.ACCOUNT:
            line.account = pm.account
            line.account_institution = pm.account.institution.code
            line.account_last4 = pm.account.last4
            line.account_holder = pm.account.holder_name
        out.append(line)
    return out


def summarize(cycle: PaymentCycle) -> dict:
    """Counts and amounts of the cycle's lines, per channel and line type (one query)."""
    per_channel: dict[str, dict[str, int]] = {c: {"lines": 0, "amount": 0} for c in Channel.values}
    per_type: dict[str, dict[str, int]] = {t: {"lines": 0, "amount": 0} for t in LineType.values}
    for channel, line_type, n, amount in (
        PayrollLine.objects.filter(cycle=cycle)
        .values_list("channel", "line_type")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    ):
        for bucket in (per_channel[channel], per_type[line_type]):
            bucket["lines"] += n
            bucket["amount"] += int(amount or 0)
    return {
        "lines": sum(v["lines"] for v in per_type.values()),
        "total_amount": sum(v["amount"] for v in per_type.values()),
        "per_channel": per_channel,
        "per_line_type": per_type,
    }


def expected_fee(cycle: PaymentCycle, summary: dict) -> dict:
    """The fee expected under the contract in force (settlement's figure is the one that counts)."""
    contract = contract_for(cycle)
    if contract is None:
        return {"fee_total": 0, "fee_note": _("No provider contract in force covers this cycle: no fee expected.")}
    paid = PayrollLine.objects.filter(cycle=cycle, amount__gt=0).values("beneficiary_id").distinct().count()
    return {"fee_total": fee_for(contract, paid, int(summary["total_amount"])), "fee_note": ""}


@transaction.atomic
def generate_payroll(*, actor, cycle: PaymentCycle) -> dict:
    """(Re)generate the cycle's draft payroll and move it to "payroll generated". Returns the
    summary (also stored as the cycle's PayrollRun and audited as one event)."""
    cycle = (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )
    if actor is not None and not access.can_in_area(actor, Cap.PAYROLL_PREPARE, cycle.area):
        raise TransitionForbidden(_("Your role does not allow preparing the payroll here."))
    if cycle.state not in GENERATABLE:
        raise PayrollRefused(
            _(
                "The payroll can be generated only when the cycle is appraised or its payroll is a draft "
                "(now: %(state)s)."
            )
            % {"state": S(cycle.state).label}
        )
    replaced = PayrollLine.objects.filter(cycle=cycle).delete()[0]
    policy = PolicyMonth.load(cycle.month, provinces=[province_id_of(cycle.area_path)])
    memo: dict = {}
    stats = {"evaluations": 0, "without_entitlement": 0, "without_method": 0}
    people = _beneficiaries(cycle).order_by("pk")
    after_id = 0
    while True:
        rows = list(
            people.filter(pk__gt=after_id).values_list("pk", "full_name", "birth_date", "commune_id", "area_path")[
                :CHUNK
            ]
        )
        if not rows:
            break
        after_id = rows[-1][0]
        PayrollLine.objects.bulk_create(_lines_for_chunk(cycle, rows, policy, memo, stats), batch_size=CHUNK)
    summary = summarize(cycle)
    now = timezone.now()
    PayrollRun.objects.update_or_create(
        cycle=cycle,
        defaults={
            "lines": summary["lines"],
            "total_amount": summary["total_amount"],
            "per_channel": summary["per_channel"],
            "per_line_type": summary["per_line_type"],
            "generated_at": now,
            "generated_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    summary |= expected_fee(cycle, summary) | stats | {"replaced_lines": replaced}
    summary |= {"cycle": cycle.pk, "month": f"{cycle.month:%Y-%m}", "programme": cycle.programme.code}
    record(actor=actor, action="payroll.payroll.generated", obj=cycle, area=cycle.area, after=summary)
    if cycle.state == S.APPRAISED:
        transition(actor=actor, cycle=cycle, to_state=S.PAYROLL_GENERATED)
    return summary


@transaction.atomic
def appraise_without_change_lists(*, actor, cycle: PaymentCycle, reason: str) -> PaymentCycle:
    """STOP-GAP until the change lists (issue 10 part 2) exist: move an open (or submitted)
    cycle to "appraised" along the map, skipping only the change-list checks that cannot pass
    yet, with a reason, audited as its own action so nobody mistakes it for an appraisal of
    change lists. Needs payroll.prepare in the cycle's area. Not offered on the web pages."""
    cycle = (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )
    if actor is not None and not access.can_in_area(actor, Cap.PAYROLL_PREPARE, cycle.area):
        raise TransitionForbidden(_("Your role does not allow preparing the payroll here."))
    if not reason.strip():
        raise PayrollRefused(_("Give the reason for appraising without change lists."))
    source = cycle.state
    paths: dict[str, list[str]] = {S.OPEN: [S.CHANGES_SUBMITTED, S.APPRAISED], S.CHANGES_SUBMITTED: [S.APPRAISED]}
    path = paths.get(source)
    if path is None:
        raise PayrollRefused(_("Only a cycle open for changes or with its changes submitted can be appraised."))
    for state in path:
        cycle.set_state(state)
    cycle.state_changed_at = timezone.now()
    cycle.save(update_fields=["state", "state_changed_at"])
    mark_deadlines(cycle)
    record(
        actor=actor,
        action="payroll.cycle.appraised_without_change_lists",
        obj=cycle,
        area=cycle.area,
        before={"state": source},
        after={"state": cycle.state, "month": cycle.month.isoformat(), "programme": cycle.programme.code},
        note=reason[:2000],
    )
    return cycle


# --- comparison with last month -------------------------------------------------------------------

COMPARE_LIMIT = 500  # items listed per kind of difference (the counts are complete)


def _line_map(month: date, programme_id: int, area_path: str) -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in PayrollLine.objects.filter(
            cycle__month=month,
            cycle__programme_id=programme_id,
            line_type=LineType.REGULAR,
            area_path__startswith=area_path,
        ).values_list("beneficiary_id", "amount", "representation_id", "channel", "account_id")
    }


def compare_with_previous(cycle: PaymentCycle) -> dict:
    """Who was added, removed, or changed amount, payee or channel since last month's regular
    lines of the same programme in the cycle's area (whatever cycle held them: the approving
    unit changed in 2025), and why where the registry says it. Two reads of lines, a few reads
    of reasons; lists are capped at COMPARE_LIMIT per kind, counts are complete."""
    previous_month = add_months(cycle.month, -1)
    now = _line_map(cycle.month, cycle.programme_id, cycle.area_path)
    before = _line_map(previous_month, cycle.programme_id, cycle.area_path)
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    both = sorted(set(now) & set(before))
    amount = [b for b in both if now[b][0] != before[b][0]]
    payee = [b for b in both if now[b][1] != before[b][1]]
    channel = [b for b in both if now[b][2:] != before[b][2:]]
    shown = {*added[:COMPARE_LIMIT], *removed[:COMPARE_LIMIT]}
    shown |= {*amount[:COMPARE_LIMIT], *payee[:COMPARE_LIMIT], *channel[:COMPARE_LIMIT]}
    people = {
        pk: (name, status, reason, end_month)
        for pk, name, status, reason, end_month in Beneficiary.objects.filter(pk__in=shown).values_list(
            "pk", "full_name", "status", "stop_reason", "end_month"
        )
    }
    started = set(
        StatusChange.objects.filter(
            beneficiary_id__in=added[:COMPARE_LIMIT], effective_month=cycle.month, to_status=RegistryStatus.ACTIVE
        ).values_list("beneficiary_id", flat=True)
    )

    def item(pk: int, reason: str, old=None, new=None) -> dict:
        return {"beneficiary_id": pk, "name": people.get(pk, ("",))[0], "reason": reason, "before": old, "after": new}

    def why_removed(pk: int) -> str:
        _name, status, stop_reason, end_month = people.get(pk, ("", "", "", None))
        if status == RegistryStatus.STOPPED and end_month is not None and end_month < cycle.month:
            return "stopped:" + (stop_reason or "other")
        if status == RegistryStatus.SUSPENDED:
            return "suspended"
        return "other"

    return {
        "month": f"{cycle.month:%Y-%m}",
        "previous_month": f"{previous_month:%Y-%m}",
        "previous_lines": len(before),
        "lines": len(now),
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "amount_changed": len(amount),
            "payee_changed": len(payee),
            "channel_changed": len(channel),
        },
        "added": [item(b, "new_decision" if b in started else "other", None, now[b][0]) for b in added[:COMPARE_LIMIT]],
        "removed": [item(b, why_removed(b), before[b][0], None) for b in removed[:COMPARE_LIMIT]],
        "amount_changed": [item(b, "entitlement_changed", before[b][0], now[b][0]) for b in amount[:COMPARE_LIMIT]],
        "payee_changed": [item(b, "payee_change", before[b][1], now[b][1]) for b in payee[:COMPARE_LIMIT]],
        "channel_changed": [item(b, "method_change", before[b][2], now[b][2]) for b in channel[:COMPARE_LIMIT]],
    }
