"""The pilot's account openings and account payments of July–September 2023, calibrated to the
published report 3010/BC-SLĐTBXH (Biểu 01, 02, 03) for Châu Đốc (884) and Tịnh Biên (890) of
pre-2025 An Giang. Used by `payments.demo.load_demo_payments`; docs/pilot-report-2023.md explains
the figures and the report's own discrepancies.

The report gives, per unit, the accounts opened in July, August and September 2023, the people
paid through an account in each month and the amounts. This module chooses, seeded, WHO opens an
account when and from which month they are paid by account, so that the records give those
figures through the definitions the reports use (docs of `reports`): amounts are never typed, they
come from the entitlement function (`policy.entitlement`) of each person's claims; the plan only
chooses people whose entitlement adds up to the published amounts (a subset-sum over their
coefficients), and where the published months differ for the same people, a decision that changes
a coefficient from August (recorded through `registry.services.record_decision`).

How the published figures are reproduced (per unit; o7, o8, o9 accounts opened, p7, p8, p9 paid,
s7, s8, s9 amounts):
- the o7 July openers are paid by account from July (the bank was connected on 14/07/2023);
- p7 − o7 more people (Tịnh Biên: 15) are paid in July into the account of a relative who opened
  one in July (the pilot's failure 4: "một tài khoản nhận 02 hoặc 03 xuất cho người thân"): the
  link is rejected in August (they are paid in cash), they open their own account in August and
  are paid by account from September;
- August pays the July openers only (p8 = o7); |s8 − (s7 − the relatives' July amounts)| of them
  have a disability condition changed from August (Châu Đốc down, Tịnh Biên up), one coefficient
  step (half the standard level) each;
- September pays the July openers and, first, the August openers, then September openers, up
  to p9; the others are paid by account from October ("169 tài khoản mới mở trong tháng 9",
  "cập nhật vào chi trả trong tháng 10").
Everyone paid is a receiving beneficiary from June 2023 at the latest whose entitlement is the
same in July, August and September (no birthday crossing an age bracket), with one active
account at Nam A Bank held by their payee (or themselves), the name printed as the bank does.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from ansinh.areas.models import Area, Tree
from ansinh.policy.entitlement import Claim, PolicyMonth
from ansinh.registry.models import BeneficiaryCategory, Status

SEED = "3010/BC-SLĐTBXH:pilot"
MONTHS = (date(2023, 7, 1), date(2023, 8, 1), date(2023, 9, 1))
LATER = date(2023, 10, 1)  # paid by account from October
BANK_CONNECTED = date(2023, 7, 14)  # "đến ngày 14/07/2023 … mới kết nối thành công"
CUT_OFF = date(2023, 9, 10)  # the report's figures are "tính đến ngày 10/9/2023"
ADJUST_SIGNED = date(2023, 7, 24)
PILOT_PROVINCE = "89"

# The published unit rows (report 3010/BC-SLĐTBXH, 3 Oct 2023). Tịnh Biên's August count is 355
# as in Biểu 03 (Biểu 02 prints 353: see docs/pilot-report-2023.md).
PUBLISHED: dict[str, dict] = {
    "884": {
        "opened": (182, 0, 396),
        "paid": ((182, 86_220_000), (182, 85_500_000), (409, 199_980_000)),
    },
    "890": {
        "opened": (355, 353, 312),
        "paid": ((370, 183_960_000), (355, 179_640_000), (704, 358_560_000)),
    },
}
# disability conditions one coefficient step apart (Decree 20, D20.5.6, adults: 1.5 and 2.0)
ADJUST_CODE = "D20.5.6"
STEP_DOWN = ("extremely_severe:adult", "severe:adult")
STEP_UP = ("severe:adult", "extremely_severe:adult")


class PlanError(RuntimeError):
    """The registry cannot give the published figures (too few people, as in small test data)."""


@dataclass
class Role:
    """What the plan makes of one beneficiary."""

    group: str  # july | relative | august_paid | august_later | september_paid | september_later
    opened_on: date
    account_from: date  # first month paid by account into their own account
    july_into: int | None = None  # relatives: the beneficiary whose account got their July allowance
    adjust: tuple[str, str] | None = None  # (condition before, from August)


@dataclass
class Plan:
    roles: dict[int, Role] = field(default_factory=dict)
    units: dict[str, dict] = field(default_factory=dict)  # per unit: the derived groups and sums


@dataclass
class _Candidate:
    pk: int
    commune: str
    start_month: date
    amounts: tuple[int, ...]  # entitlement in July, August, September (đồng)
    claim: Claim | None  # the single claim, when there is exactly one
    birth: date | None


def _claims_in(rows: list[tuple], month: date) -> tuple[Claim, ...]:
    claims = [
        Claim(category_code=code, condition=cond or "", units=units, fixed_key=key or "")
        for code, cond, units, key, start, end in rows
        if start <= month and (end is None or end >= month)
    ]
    return tuple(sorted(claims, key=lambda c: (c.category_code, c.condition, c.units, c.fixed_key)))


def _candidates(people: list) -> list[_Candidate]:
    """The people of the units with their entitlement in each pilot month (the entitlement
    function, policy of pre-2025 An Giang)."""
    from ansinh.registry.models import Beneficiary

    province = Area.objects.get(tree=Tree.LEGACY, code=PILOT_PROVINCE, level="province")
    tables = [PolicyMonth.load(m, provinces=[province]).table(province) for m in MONTHS]
    ids = [p.pk for p in people]
    claims: dict[int, list[tuple]] = defaultdict(list)
    births: dict[int, date | None] = {}
    active: set[int] = set()
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        for row in BeneficiaryCategory.objects.filter(beneficiary_id__in=chunk).values_list(
            "beneficiary_id", "category__code", "condition", "units", "fixed_key", "from_month", "to_month"
        ):
            claims[row[0]].append(row[1:])
        for pk, birth, status in Beneficiary.objects.filter(pk__in=chunk).values_list("pk", "birth_date", "status"):
            births[pk] = birth
            if status == Status.ACTIVE:
                active.add(pk)
    out = []
    for p in people:
        if p.pk not in active:  # suspended now: a 2023 transfer would be held
            continue
        per_month = [_claims_in(claims[p.pk], m) for m in MONTHS]
        amounts = []
        for table, cl in zip(tables, per_month, strict=True):
            e = table.entitlement(cl, births.get(p.pk)) if cl else None
            amounts.append(e.amount if e is not None else 0)
        single = per_month[0][0] if len(set(per_month)) == 1 and len(per_month[0]) == 1 else None
        out.append(
            _Candidate(
                pk=p.pk,
                commune=p.commune,
                start_month=p.start_month,
                amounts=tuple(amounts),
                claim=single,
                birth=births.get(p.pk),
            )
        )
    return out


def _select(rng: random.Random, pool: list[tuple[int, int]], n: int, target: int) -> list[int]:
    """n ids of `pool` ((id, units)) whose units add up to `target` exactly: a seeded sample,
    then swaps of one chosen for one left over until the sum is right."""
    if n > len(pool):
        raise PlanError(f"{n} people wanted, {len(pool)} available")
    items = list(pool)
    rng.shuffle(items)
    chosen, rest = items[:n], items[n:]
    total = sum(u for _pk, u in chosen)
    spare: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for item in rest:
        spare[item[1]].append(item)
    for _round in range(4 * n + 10):
        diff = target - total
        if diff == 0:
            return [pk for pk, _u in chosen]
        sign = 1 if diff > 0 else -1
        swapped = False
        for i in rng.sample(range(len(chosen)), len(chosen)):
            pk, u = chosen[i]
            for d in range(abs(diff), 0, -1):
                if spare.get(u + sign * d):
                    new = spare[u + sign * d].pop()
                    spare[u].append((pk, u))
                    chosen[i] = new
                    total += new[1] - u
                    swapped = True
                    break
            if swapped:
                break
        if not swapped:
            break
    raise PlanError(f"no {n} people add up to {target} units")


def _day(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randrange((high - low).days + 1))


def plan(people: list, *, rng: random.Random | None = None) -> Plan:
    """The roles of the pilot's people (see the module). `people` are `payments.demo._Person`
    (pk, unit, commune, start_month). Raises PlanError when the registry is too small."""
    rng = rng or random.Random(SEED)
    result = Plan()
    by_unit: dict[str, list] = defaultdict(list)
    for p in people:
        if p.unit in PUBLISHED:
            by_unit[p.unit].append(p)
    if set(by_unit) != set(PUBLISHED):
        raise PlanError("the pilot units have nobody")
    for unit in sorted(PUBLISHED):
        _plan_unit(unit, by_unit[unit], rng, result)
    return result


def _plan_unit(unit: str, people: list, rng: random.Random, result: Plan) -> None:
    figures = PUBLISHED[unit]
    o7, o8, o9 = figures["opened"]
    (p7, s7), (p8, s8), (p9, s9) = figures["paid"]
    candidates = _candidates(people)
    # paid by account in the pilot: receiving since June at the latest, the same entitlement in
    # each of the three months; openers never paid in the pilot: receiving in September
    steady = [c for c in candidates if c.start_month <= date(2023, 6, 1) and c.amounts[0] and len(set(c.amounts)) == 1]
    receiving = [c for c in candidates if c.start_month <= MONTHS[2]]
    amounts = {c.amounts[0] for c in steady} | {s7, s8, s9}
    step = math.gcd(*amounts)  # half the standard level: the smallest coefficient step
    units = {c.pk: c.amounts[0] // step for c in steady}
    t7, t8, t9 = s7 // step, s8 // step, s9 // step
    relatives = p7 - o7
    if p8 != o7 or relatives < 0 or relatives > o8:
        raise PlanError(f"unit {unit}: the published months do not follow the plan's pattern")
    august_paid = min(o8, p9 - o7)
    september_paid = p9 - o7 - august_paid
    smallest = min(units.values())
    july_sum = t7 - relatives * smallest  # the July openers in July
    delta = t8 - july_sum  # their change from August, one step per adjusted person
    used: set[int] = set()

    def pool(items) -> list[tuple[int, int]]:
        return [(c.pk, units[c.pk]) for c in items if c.pk not in used]

    # the adjusted July openers: one D20.5.6 claim whose other condition is one step away
    before, after = STEP_DOWN if delta < 0 else STEP_UP
    province = Area.objects.get(tree=Tree.LEGACY, code=PILOT_PROVINCE, level="province")
    later_tables = [PolicyMonth.load(m, provinces=[province]).table(province) for m in MONTHS[1:]]
    adjustable = []
    for c in steady:
        if c.claim is None or c.claim.category_code != ADJUST_CODE or c.claim.condition != before:
            continue
        new = Claim(category_code=ADJUST_CODE, condition=after, units=c.claim.units)
        changed = [t.entitlement((new,), c.birth) for t in later_tables]
        if all(e is not None and e.amount - c.amounts[0] == (1 if delta > 0 else -1) * step for e in changed):
            adjustable.append(c)
    rng.shuffle(adjustable)
    adjusted = adjustable[: abs(delta)]
    if len(adjusted) < abs(delta):
        raise PlanError(f"unit {unit}: {abs(delta)} people to adjust, {len(adjusted)} found")
    used |= {c.pk for c in adjusted}
    by_pk = {c.pk: c for c in candidates}
    july_ids = [c.pk for c in adjusted] + _select(
        rng, pool(steady), o7 - len(adjusted), july_sum - sum(units[c.pk] for c in adjusted)
    )
    used |= set(july_ids)
    # the relatives paid in July into a July opener's account of their commune
    july_by_commune: dict[str, list[int]] = defaultdict(list)
    for pk in july_ids:
        july_by_commune[by_pk[pk].commune].append(pk)
    relative_ids: list[int] = []
    for c in rng.sample(steady, len(steady)):
        if len(relative_ids) == relatives:
            break
        if c.pk not in used and units[c.pk] == smallest and july_by_commune.get(c.commune):
            relative_ids.append(c.pk)
    if len(relative_ids) < relatives:
        raise PlanError(f"unit {unit}: too few relatives")
    used |= set(relative_ids)
    # paid from September: the August openers first, then September openers
    newly = august_paid - relatives + september_paid
    sept_ids = _select(rng, pool(steady), newly, t9 - t8 - relatives * smallest)
    used |= set(sept_ids)
    spare = [c.pk for c in rng.sample(receiving, len(receiving)) if c.pk not in used]
    august_later = o8 - august_paid
    september_later = o9 - september_paid
    if len(spare) < august_later + september_later:
        raise PlanError(f"unit {unit}: too few people for the later openings")
    later_ids = spare[: august_later + september_later]

    roles = result.roles
    july_end = date(2023, 7, 31)
    for pk in july_ids:
        roles[pk] = Role("july", _day(rng, BANK_CONNECTED, july_end), MONTHS[0])
    for c in adjusted:
        roles[c.pk].adjust = (before, after)
    aug = (date(2023, 8, 1), date(2023, 8, 31))
    sep = (date(2023, 9, 1), CUT_OFF)
    for pk in relative_ids:
        roles[pk] = Role(
            "relative", _day(rng, *aug), MONTHS[2], july_into=rng.choice(july_by_commune[by_pk[pk].commune])
        )
    august_new = sept_ids[: august_paid - relatives]
    for pk in august_new:
        roles[pk] = Role("august_paid", _day(rng, *aug), MONTHS[2])
    for pk in sept_ids[august_paid - relatives :]:
        roles[pk] = Role("september_paid", _day(rng, *sep), MONTHS[2])
    for pk in later_ids[:august_later]:
        roles[pk] = Role("august_later", _day(rng, *aug), LATER)
    for pk in later_ids[august_later:]:
        roles[pk] = Role("september_later", _day(rng, *sep), LATER)
    result.units[unit] = {
        "unit_amount": step,
        "july": o7,
        "relatives": relatives,
        "adjusted": len(adjusted),
        "adjusted_to": after,
        "august_paid": august_paid,
        "august_later": august_later,
        "september_paid": september_paid,
        "september_later": september_later,
        "units": {"july": t7, "august": t8, "september": t9},
    }
