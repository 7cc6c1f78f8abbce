"""Payroll generation (issue 10 part 3, first slice): regular allowance lines from the one
entitlement function, payee and channel of the month, idempotent re-generation, the month of
death paid and nothing after, the summary, bounded queries, scoping, and the comparison."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansinh.audit.models import AuditEvent
from ansinh.payments.models import Institution, PayeeDesignation, PaymentMethod, ReceivingAccount
from ansinh.payroll.generation import (
    PayrollRefused,
    compare_with_previous,
    generate_payroll,
)
from ansinh.payroll.models import ChangeItem, Channel, CycleState, PaymentCycle, PayrollLine, PayrollRun
from ansinh.payroll.services import open_cycles, transition
from ansinh.policy.entitlement import Claim, age_in_years, monthly_entitlement
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Representative
from tests.payroll.conftest import appraise

M1 = date(2026, 3, 1)
M2 = date(2026, 4, 1)
M3 = date(2026, 5, 1)


def person(commune, name="Nguyễn Văn A", birth=date(1940, 5, 17), codes=("D20.5.5.c",), start=date(2025, 1, 1), **kw):
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=birth,
        gender="male",
        commune=commune,
        area_path=commune.path,
        start_month=start,
        **kw,
    )
    for code in codes:
        BeneficiaryCategory.objects.create(beneficiary=b, category=Category.objects.get(code=code), from_month=start)
    return b


def cycle_for(tree, month, area=None, code="D20.5.5.c") -> PaymentCycle:
    open_cycles(actor=None, month=month, area=area or tree.a)
    programme_id = Category.objects.get(code=code).programme_id
    cycle = PaymentCycle.objects.get(month=month, area=area or tree.a, programme_id=programme_id)
    return appraise(cycle)


@pytest.fixture
def cycle(world):
    return cycle_for(world.tree, M1)


def test_amounts_equal_the_entitlement_function(world, cycle):
    tree = world.tree
    people = [
        person(tree.a, "Già", birth=date(1930, 1, 1)),
        person(tree.a, "Trẻ", birth=date(2020, 6, 15), codes=("D20.5.1.a",) if _exists("D20.5.1.a") else ()),
        person(tree.a, "Hai diện", codes=("D20.5.5.c", "D20.5.3")),
    ]
    summary = generate_payroll(actor=None, cycle=cycle)
    lines = {ln.beneficiary_id: ln for ln in PayrollLine.objects.filter(cycle=cycle)}
    for b in people:
        claims = [
            Claim(category_code=c.category.code, condition=c.condition, units=c.units, fixed_key=c.fixed_key)
            for c in b.categories.select_related("category").filter(category__programme_id=cycle.programme_id)
        ]
        expected = monthly_entitlement(claims=claims, month=M1, birth_date=b.birth_date, province=tree.a)
        if expected is None:
            assert b.pk not in lines
        else:
            assert lines[b.pk].amount == expected.amount
            assert lines[b.pk].basis["explanation"] == expected.explanation
    assert summary["lines"] == len(lines)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.PAYROLL_GENERATED
    assert AuditEvent.objects.filter(action="payroll.payroll.generated", object_id=str(cycle.pk)).count() == 1


def _exists(code: str) -> bool:
    return Category.objects.filter(code=code).exists()


def test_channel_and_payee_follow_the_history_of_the_month(world):
    tree = world.tree
    b = person(tree.a, "Lê Thị B")
    rep = Representation.objects.create(
        beneficiary=b,
        representative=Representative.objects.create(full_name="Trần Văn Con", commune=tree.a, area_path=tree.a.path),
        kind="guardian",
    )
    account = ReceivingAccount.objects.create(
        beneficiary=b,
        kind="bank",
        institution=Institution.objects.get(code="VBA"),
        number_encrypted="x",
        number_hash="h" * 64,
        last4="6789",
        holder_name="LE THI B",
        status="active",
    )
    PaymentMethod.objects.create(beneficiary=b, method="pay_point", cash_reason="choice", from_month=M1)
    PaymentMethod.objects.create(beneficiary=b, method="account", account=account, from_month=M2)
    PayeeDesignation.objects.create(beneficiary=b, representation=None, from_month=M1)
    PayeeDesignation.objects.create(beneficiary=b, representation=rep, from_month=M2)
    c1 = cycle_for(tree, M1)
    generate_payroll(actor=None, cycle=c1)
    c2 = cycle_for(tree, M2)
    generate_payroll(actor=None, cycle=c2)
    l1 = PayrollLine.objects.get(cycle=c1, beneficiary=b)
    l2 = PayrollLine.objects.get(cycle=c2, beneficiary=b)
    assert (l1.channel, l1.representation_id, l1.payee_name, l1.account_id) == ("pay_point", None, "Lê Thị B", None)
    assert (l2.channel, l2.representation_id, l2.payee_name) == ("account", rep.pk, "Trần Văn Con")
    assert (l2.account_id, l2.account_institution, l2.account_last4, l2.masked_account) == (
        account.pk,
        "VBA",
        "6789",
        "VBA •••• 6789",
    )
    comparison = compare_with_previous(c2)
    assert comparison["counts"]["payee_changed"] == 1
    assert comparison["counts"]["channel_changed"] == 1
    assert comparison["channel_changed"][0]["reason"] == "method_change"


def test_regeneration_is_idempotent_and_refused_after_approval(world, cycle):
    tree = world.tree
    for i in range(5):
        person(tree.a, f"Người {i}")
    first = generate_payroll(actor=None, cycle=cycle)
    before = sorted(PayrollLine.objects.filter(cycle=cycle).values_list("beneficiary_id", "amount", "channel"))
    second = generate_payroll(actor=None, cycle=cycle)
    after = sorted(PayrollLine.objects.filter(cycle=cycle).values_list("beneficiary_id", "amount", "channel"))
    assert before == after and len(after) == 5
    assert first["total_amount"] == second["total_amount"] and second["replaced_lines"] == 5
    assert PayrollRun.objects.filter(cycle=cycle).count() == 1
    PaymentCycle.objects.filter(pk=cycle.pk).update(state=CycleState.APPROVED)
    with pytest.raises(PayrollRefused):
        generate_payroll(actor=None, cycle=cycle)
    assert PayrollLine.objects.filter(cycle=cycle).count() == 5


def test_the_month_of_death_is_paid_and_nothing_after(world):
    tree = world.tree
    b = person(tree.a, "Đã mất", status="stopped", stop_reason="died", death_date=date(2026, 3, 20), end_month=M1)
    removed_reason = []
    for month in (M1, M2):
        c = cycle_for(tree, month)
        generate_payroll(actor=None, cycle=c)
        removed_reason.append(compare_with_previous(c))
    assert PayrollLine.objects.filter(beneficiary=b, cycle__month=M1).count() == 1
    assert not PayrollLine.objects.filter(beneficiary=b, cycle__month=M2).exists()
    assert removed_reason[1]["removed"][0] | {"name": ""} == {
        "beneficiary_id": b.pk,
        "name": "",
        "reason": "stopped:died",
        "before": PayrollLine.objects.get(beneficiary=b).amount,
        "after": None,
    }


def test_generation_needs_the_role_and_an_appraised_cycle(world, preparer_a, approver_a):
    tree = world.tree
    open_cycles(actor=None, month=M1, area=tree.a)
    cycle = PaymentCycle.objects.filter(month=M1, area=tree.a).first()
    with pytest.raises(PayrollRefused):
        generate_payroll(actor=preparer_a, cycle=cycle)  # still open for changes
    from ansinh.payroll.services import TransitionForbidden, TransitionRefused

    with pytest.raises(TransitionForbidden):
        generate_payroll(actor=approver_a, cycle=cycle)
    appraise(cycle, actor=preparer_a)
    with pytest.raises(TransitionRefused):  # the plain step refuses: the lines do not exist yet
        transition(actor=preparer_a, cycle=cycle, to_state=CycleState.PAYROLL_GENERATED)
    generate_payroll(actor=preparer_a, cycle=cycle)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1925, 1960), st.sampled_from(["pay_point", "home"])), min_size=0, max_size=12))
def test_the_sum_of_the_lines_is_the_summary(world, people):
    tree = world.tree
    PayrollLine.objects.all().delete()
    PayrollRun.objects.all().delete()
    PaymentMethod.objects.all().delete()
    ChangeItem.objects.all().delete()
    BeneficiaryCategory.objects.all().delete()
    Beneficiary.objects.all().delete()
    PaymentCycle.objects.filter(month=M1).update(state=CycleState.APPRAISED)
    for i, (year, method) in enumerate(people):
        b = person(tree.a, f"P{i}", birth=date(year, 1 + i % 12, 1))
        PaymentMethod.objects.create(beneficiary=b, method=method, cash_reason="choice", from_month=M1)
    c = cycle_for(tree, M1) if not PaymentCycle.objects.filter(month=M1).exists() else None
    c = c or PaymentCycle.objects.get(month=M1, area=tree.a, programme__categories__code="D20.5.5.c")
    s = generate_payroll(actor=None, cycle=c)
    amounts = list(PayrollLine.objects.filter(cycle=c).values_list("amount", "channel"))
    assert s["lines"] == len(amounts) == len(people)
    assert s["total_amount"] == sum(a for a, _ in amounts)
    for ch in Channel.values:
        assert s["per_channel"][ch]["amount"] == sum(a for a, c2 in amounts if c2 == ch)
    run = PayrollRun.objects.get(cycle=c)
    assert (run.lines, run.total_amount) == (s["lines"], s["total_amount"])


def test_queries_are_bounded_for_200_beneficiaries(world, cycle):
    tree = world.tree
    category = Category.objects.get(code="D20.5.5.c")
    people = Beneficiary.objects.bulk_create(
        [
            Beneficiary(
                full_name=f"N{i}",
                birth_date=date(1930 + i % 20, 1 + i % 12, 1),
                gender="female",
                commune=tree.a,
                area_path=tree.a.path,
                start_month=date(2025, 1, 1),
            )
            for i in range(200)
        ]
    )
    BeneficiaryCategory.objects.bulk_create(
        [BeneficiaryCategory(beneficiary=b, category=category, from_month=date(2025, 1, 1)) for b in people]
    )
    PaymentMethod.objects.bulk_create(
        [PaymentMethod(beneficiary=b, method="home", cash_reason="choice", from_month=M1) for b in people[:50]]
    )
    with CaptureQueriesContext(connection) as ctx:
        summary = generate_payroll(actor=None, cycle=cycle)
    assert summary["lines"] == 200
    ages = {age_in_years(b.birth_date, M1) for b in people}
    assert summary["evaluations"] == len(ages) < 30  # one per distinct (province, claims, age)
    assert summary["per_channel"]["home"]["lines"] == 50
    # a fixed number of statements whatever the number of people (45 on PostgreSQL: its
    # temporary tables are analysed as they are written, for the plans of a million rows)
    assert len(ctx.captured_queries) <= 45, len(ctx.captured_queries)


def test_other_commune_is_404_and_lines_api(world, preparer_a, approver_a, client_for, api_client_for):
    tree = world.tree
    b = person(tree.a, "Ở xã A")
    child = person(tree.a, "Cháu", birth=date(2020, 6, 15), codes=("D20.5.3",))
    person(tree.b, "Ở xã B")
    mine = cycle_for(tree, M1)
    theirs = cycle_for(tree, M1, area=tree.b)
    generate_payroll(actor=None, cycle=mine)
    api = api_client_for(preparer_a)
    assert api.get(f"/api/v1/payroll/cycles/{theirs.pk}/lines").status_code == 404
    assert api.get(f"/api/v1/payroll/cycles/{theirs.pk}/comparison").status_code == 404
    assert api.post(f"/api/v1/payroll/cycles/{theirs.pk}/generate").status_code == 404
    page = api.get(f"/api/v1/payroll/cycles/{mine.pk}/lines?limit=1").json()
    assert [row["beneficiary_id"] for row in page["items"]] == [b.pk]
    assert page["items"][0]["categories"] == ["D20.5.5.c"]
    rest = api.get(f"/api/v1/payroll/cycles/{mine.pk}/lines?after={page['next_after']}").json()
    assert [row["beneficiary_id"] for row in rest["items"]] == [child.pk] and rest["next_after"] is None
    assert rest["items"][0]["categories"] == ["D20.5.3"]  # the office decides under it: view_sensitive
    reader = api_client_for(approver_a).get(f"/api/v1/payroll/cycles/{mine.pk}/lines").json()
    assert [(r["category"], r["categories"]) for r in reader["items"]] == [("D20.5.5.c", ["D20.5.5.c"]), ("", [])]
    assert api.get(f"/api/v1/payroll/cycles/{mine.pk}/comparison").json()["counts"]["added"] == 2
    assert api_client_for(approver_a).post(f"/api/v1/payroll/cycles/{mine.pk}/generate").status_code == 403
    assert api.post(f"/api/v1/payroll/cycles/{mine.pk}/generate").json()["lines"] == 2
    web = client_for(preparer_a)
    assert web.get(f"/payroll/cycles/{theirs.pk}/").status_code == 404
    html = web.get(f"/payroll/cycles/{mine.pk}/").content.decode()
    assert "Ở xã A" in html and "Lập danh sách chi trả" in html and "D20.5.3" in html
    assert web.post(f"/payroll/cycles/{mine.pk}/generate/").status_code == 302
    assert PayrollLine.objects.filter(cycle=mine).count() == 2
    html = client_for(approver_a).get(f"/payroll/cycles/{mine.pk}/").content.decode()
    assert "D20.5.3" not in html and "Lập danh sách chi trả" not in html
