"""The set-based regular pass of `generation.generate_payroll` gives, on any small world, the same
lines as the per-person reference (the first slice's chunked Python path, kept here only as the
oracle), on a first generation and on a re-generation after a change: amounts from the one
entitlement function, payee and channel from `payments.queries.payee_on` / `method_on`, the
account snapshot."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansinh.payments.models import Institution, PayeeDesignation, PaymentMethod, ReceivingAccount
from ansinh.payments.queries import method_on, payee_on
from ansinh.payroll.generation import _basis, _beneficiaries, generate_payroll
from ansinh.payroll.models import (
    ChangeItem,
    Channel,
    CycleState,
    PaidMonth,
    PaymentCycle,
    PayrollLine,
    PayrollRun,
    Receivable,
)
from ansinh.payroll.services import province_id_of
from ansinh.policy.entitlement import Claim, PolicyMonth
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Representative
from tests.payroll.test_generation import M1, cycle_for

CHANNEL = {"account": Channel.ACCOUNT, "pay_point": Channel.PAY_POINT, "home": Channel.HOME}


def reference_lines(cycle: PaymentCycle) -> tuple[set[tuple], dict]:
    """The old per-person path: (beneficiary, amount, representation, payee name, channel,
    account, institution, last4, holder, basis) of each line, and its stats."""
    policy = PolicyMonth.load(cycle.month, provinces=[province_id_of(cycle.area_path)])
    sensitive = {code for code, info in policy.categories.items() if info.sensitive}
    rows = list(_beneficiaries(cycle).values_list("pk", "full_name", "birth_date"))
    ids = [r[0] for r in rows]
    claims: dict[int, list[Claim]] = {}
    for bid, code, condition, units, fixed_key in (
        BeneficiaryCategory.objects.filter(
            beneficiary_id__in=ids, category__programme_id=cycle.programme_id, from_month__lte=cycle.month
        )
        .exclude(to_month__lt=cycle.month)
        .order_by("beneficiary_id", "category__code", "condition", "id")
        .values_list("beneficiary_id", "category__code", "condition", "units", "fixed_key")
    ):
        claims.setdefault(bid, []).append(Claim(code, condition, units, fixed_key))
    methods, payees = method_on(ids, cycle.month), payee_on(ids, cycle.month)
    stats = {"without_entitlement": 0, "without_method": 0}
    out = set()
    for bid, full_name, birth_date in rows:
        person_claims = tuple(claims.get(bid, ()))
        e = policy.table(province_id_of(cycle.area_path)).entitlement(person_claims, birth_date)
        if e is None:
            stats["without_entitlement"] += 1
            continue
        pm, rep = methods.get(bid), payees.get(bid)
        channel = CHANNEL.get(pm.method, Channel.PAY_POINT) if pm else Channel.PAY_POINT
        stats["without_method"] += pm is None
        account = pm.account if pm is not None and channel == Channel.ACCOUNT else None
        out.add(
            (
                bid,
                e.amount,
                rep.pk if rep else None,
                rep.representative.full_name if rep else full_name,
                channel,
                account.pk if account else None,
                account.institution.code if account else "",
                account.last4 if account else "",
                account.holder_name if account else "",
                repr(sorted(_basis(e, person_claims, sensitive).items())),
            )
        )
    return out, stats


def generated_lines(cycle: PaymentCycle) -> set[tuple]:
    return {
        (*row[:-1], repr(sorted(row[-1].items())))
        for row in PayrollLine.objects.filter(cycle=cycle).values_list(
            "beneficiary_id",
            "amount",
            "representation_id",
            "payee_name",
            "channel",
            "account_id",
            "account_institution",
            "account_last4",
            "account_holder",
            "basis",
        )
    }


M0, M2 = date(2026, 2, 1), date(2026, 4, 1)
months = st.sampled_from([M0, M1, M2])
history = st.lists(
    st.tuples(months, st.sampled_from(["pay_point", "home", "account"]), st.booleans()),
    max_size=3,
    unique_by=lambda t: t[0],
)
payees = st.lists(st.tuples(months, st.booleans(), st.booleans()), max_size=2, unique_by=lambda t: t[0])
people = st.lists(
    st.fixed_dictionaries(
        {
            "birth": st.one_of(
                st.dates(date(1925, 1, 1), date(1946, 3, 1)), st.dates(date(1925, 1, 1), date(2024, 12, 31))
            ),
            "codes": st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True),
            "condition": st.sampled_from(["", "severe:adult", "x"]),
            "methods": history,
            "payees": payees,
            "flag": st.booleans(),
            "start": months,
            "status": st.sampled_from(["active", "active", "suspended"]),
        }
    ),
    min_size=1,
    max_size=7,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people)
def test_set_based_lines_equal_the_per_person_reference(world, people):
    tree = world.tree
    PaidMonth.objects.all().delete()
    PayrollLine.objects.all().delete()
    Receivable.objects.all().delete()
    ChangeItem.objects.all().delete()
    PayrollRun.objects.all().delete()
    PaymentMethod.objects.all().delete()
    PayeeDesignation.objects.all().delete()
    ReceivingAccount.objects.all().delete()
    Representation.objects.all().delete()
    BeneficiaryCategory.objects.all().delete()
    Beneficiary.objects.all().delete()
    PaymentCycle.objects.filter(month=M1).update(state=CycleState.APPRAISED)
    cycle = PaymentCycle.objects.filter(month=M1, area=tree.a).first() or cycle_for(tree, M1)
    known = list(Category.objects.filter(code__in=["D20.5.5.c", "D20.5.3"]).order_by("-code"))
    categories = known + list(Category.objects.filter(programme_id=cycle.programme_id).order_by("code")[:4])
    vba = Institution.objects.get(code="VBA")
    for i, p in enumerate(people):
        b = Beneficiary.objects.create(
            full_name=f"Người {i}",
            birth_date=p["birth"],
            gender="female",
            commune=tree.a,
            area_path=tree.a.path,
            start_month=p["start"],
            status=p["status"],
        )
        for k in p["codes"]:
            BeneficiaryCategory.objects.create(
                beneficiary=b,
                category=categories[k % len(categories)],
                condition=p["condition"] if k else "",
                from_month=M0,
            )
        reps = [
            Representation.objects.create(
                beneficiary=b,
                representative=Representative.objects.create(
                    full_name=f"Đại diện {i}.{j}", commune=tree.a, area_path=tree.a.path
                ),
                kind="guardian",
                is_payee=p["flag"] and j == 0,
            )
            for j in range(2)
        ]
        for j, (month, method, cancelled) in enumerate(p["methods"]):
            account = None
            if method == "account":
                account = ReceivingAccount.objects.create(
                    beneficiary=b,
                    kind="bank",
                    institution=vba,
                    number_encrypted="x",
                    number_hash=f"{i}{j}".ljust(64, "h"),
                    last4=f"{i}{j}".zfill(4),
                    holder_name=f"CHU TK {i}",
                    status="active",
                )
            pm = PaymentMethod.objects.create(
                beneficiary=b, method=method, account=account, cash_reason="" if account else "choice", from_month=month
            )
            if cancelled:
                PaymentMethod.objects.filter(pk=pm.pk).update(cancelled_at="2026-01-01T00:00:00Z")
        for j, (month, to_rep, cancelled) in enumerate(p["payees"]):
            d = PayeeDesignation.objects.create(
                beneficiary=b, representation=reps[j] if to_rep else None, from_month=month
            )
            if cancelled:
                PayeeDesignation.objects.filter(pk=d.pk).update(cancelled_at="2026-01-01T00:00:00Z")
    expected, stats = reference_lines(cycle)
    summary = generate_payroll(actor=None, cycle=cycle)
    assert generated_lines(cycle) == expected
    assert (summary["without_entitlement"], summary["without_method"]) == (
        stats["without_entitlement"],
        stats["without_method"],
    )
    ids = list(PayrollLine.objects.filter(cycle=cycle).order_by("id").values_list("beneficiary_id", flat=True))
    assert ids == sorted(ids)  # lines in the order of the beneficiaries
    again = generate_payroll(actor=None, cycle=cycle)
    assert generated_lines(cycle) == expected and again["replaced_lines"] == len(expected)
    # a change between two generations of the draft: only what differs is rewritten
    first = Beneficiary.objects.order_by("pk").first()
    PaymentMethod.objects.filter(beneficiary=first).delete()
    Beneficiary.objects.filter(pk=first.pk).update(full_name="Tên Mới", birth_date=date(1930, 3, 1))
    expected, _stats = reference_lines(cycle)
    generate_payroll(actor=None, cycle=cycle)
    assert generated_lines(cycle) == expected
