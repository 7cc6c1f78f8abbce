"""The communes' monthly change lists (issue 10 part 2): the items each registry event gives, late
changes, an idempotent rebuild that keeps manual adjustments, submit and overdue, return → open,
accept → appraise, the last accepted list of a late commune (the payroll repeats last month's
lines, never a dead person's), the roles, the pages and the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from ansinh.accounts.models import Function, OrgKind
from ansinh.accounts.roles import Role
from ansinh.accounts.services import assign_responsibility, create_org_unit
from ansinh.audit.models import AuditEvent
from ansinh.payments.models import PayeeDesignation, PaymentMethod
from ansinh.payroll import changelists
from ansinh.payroll.generation import generate_payroll
from ansinh.payroll.models import (
    ChangeItem,
    ChangeList,
    ChangeListState,
    CycleState,
    PaymentCycle,
    PayrollLine,
    PayrollRun,
)
from ansinh.payroll.services import TransitionRefused, open_cycles, transition
from ansinh.policy.entitlement import Claim, monthly_entitlement
from ansinh.policy.models import Category
from ansinh.registry.models import (
    Beneficiary,
    BeneficiaryCategory,
    Decision,
    Representation,
    Representative,
    StatusChange,
)
from tests.conftest import make_user

from .conftest import appraise

M0 = date(2026, 2, 1)
M1 = date(2026, 3, 1)
M2 = date(2026, 4, 1)
CODE = "D20.5.5.c"


def person(commune, name, *, start=date(2025, 1, 1), codes=(CODE,), **kw) -> Beneficiary:
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=date(1940, 5, 17),
        gender="female",
        commune=commune,
        area_path=commune.path,
        start_month=start,
        **kw,
    )
    for code in codes:
        BeneficiaryCategory.objects.create(beneficiary=b, category=Category.objects.get(code=code), from_month=start)
    return b


def status(b, to, month, frm="active", reason="", decision=None) -> StatusChange:
    return StatusChange.objects.create(
        beneficiary=b, from_status=frm, to_status=to, reason=reason, effective_month=month, decision=decision
    )


def decision(b, kind, month, **kw) -> Decision:
    return Decision.objects.create(
        beneficiary=b, kind=kind, number=f"{kind}/{b.pk}", signed_on=month, effective_month=month, **kw
    )


def cycle_of(tree, month, area=None) -> PaymentCycle:
    open_cycles(actor=None, month=month, area=area or tree.a)
    programme_id = Category.objects.get(code=CODE).programme_id
    return PaymentCycle.objects.get(month=month, area=area or tree.a, programme_id=programme_id)


def items_of(cl) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for item in ChangeItem.objects.filter(change_list=cl).select_related("beneficiary").order_by("pk"):
        out.setdefault(item.kind, []).append((item.beneficiary.full_name, item.late))
    return out


def entitled(b, month) -> int:
    claims = [
        Claim(category_code=c.category.code, condition=c.condition, units=c.units, fixed_key=c.fixed_key)
        for c in b.categories.select_related("category")
    ]
    return monthly_entitlement(claims=claims, month=month, birth_date=b.birth_date, province=b.commune).amount


@pytest.fixture
def events(world):
    """One person per kind of registry event in commune A effective in M1, and one in B."""
    tree = world.tree
    people = {}
    people["new"] = new = person(tree.a, "Mới Vào", start=M1)
    status(new, "active", M1, frm="")
    c = person(tree.b, "Chuyển Đến", start=date(2024, 1, 1))
    move = decision(c, "move", M1, reason="moved", from_commune=tree.b, to_commune=tree.a)
    status(c, "stopped", M1, reason="moved", decision=move)
    start = decision(c, "start", M1, follows=move, from_commune=tree.b, to_commune=tree.a)
    status(c, "active", M1, frm="stopped", decision=start)
    Beneficiary.objects.filter(pk=c.pk).update(commune=tree.a, area_path=tree.a.path)
    people["moved_in"] = c
    people["stopped"] = dead = person(
        tree.a, "Đã Mất", status="stopped", stop_reason="died", death_date=date(2026, 2, 3), end_month=M0
    )
    status(dead, "stopped", M1, reason="died")
    people["moved_out"] = gone = person(tree.a, "Chuyển Đi", status="stopped", stop_reason="moved", end_month=M0)
    status(
        gone, "stopped", M1, reason="moved", decision=decision(gone, "move", M1, reason="moved", from_commune=tree.a)
    )
    people["suspended"] = s = person(tree.a, "Tạm Dừng", status="suspended")
    status(s, "suspended", M1)
    people["resumed"] = r = person(tree.a, "Hưởng Lại")
    status(r, "active", M1, frm="suspended")
    people["adjusted"] = adj = person(tree.a, "Điều Chỉnh")
    decision(adj, "adjust", M1)
    people["method"] = m = person(tree.a, "Đổi Cách Nhận")
    PaymentMethod.objects.create(beneficiary=m, method="pay_point", cash_reason="choice", from_month=M0)
    PaymentMethod.objects.create(beneficiary=m, method="home", cash_reason="choice", from_month=M1)
    people["payee"] = p = person(tree.a, "Đổi Người Nhận")
    rep = Representation.objects.create(
        beneficiary=p,
        representative=Representative.objects.create(full_name="Con Gái", commune=tree.a, area_path=tree.a.path),
        kind="guardian",
    )
    PayeeDesignation.objects.create(beneficiary=p, representation=rep, from_month=M1)
    people["quiet"] = person(tree.a, "Không Đổi")
    people["elsewhere"] = other = person(tree.b, "Ở Xã B", start=M1)
    status(other, "active", M1, frm="")
    return people


def test_each_registry_event_gives_its_item(world, events):
    cycle = cycle_of(world.tree, M1)
    summary = changelists.build_change_lists(actor=None, cycle=cycle)
    cl = ChangeList.objects.get(cycle=cycle)
    assert cl.commune == world.tree.a and summary["lists"] == 1
    found = items_of(cl)
    assert {kind: [n for n, _late in v] for kind, v in found.items()} == {
        "new": ["Mới Vào"],
        "moved_in": ["Chuyển Đến"],
        "stopped": ["Đã Mất"],
        "moved_out": ["Chuyển Đi"],
        "suspended": ["Tạm Dừng"],
        "resumed": ["Hưởng Lại"],
        "adjusted": ["Điều Chỉnh"],
        "method": ["Đổi Cách Nhận"],
        "payee": ["Đổi Người Nhận"],
    }
    assert not any(late for v in found.values() for _n, late in v)
    # amounts: after = the one entitlement function now; a stopped person gets nothing
    new = ChangeItem.objects.get(change_list=cl, kind="new")
    assert new.amount_after == entitled(events["new"], M1) > 0 and new.amount_before is None
    assert ChangeItem.objects.get(change_list=cl, kind="stopped").amount_after == 0
    # B's officer's list holds B's new person (and the move is A's, where the person arrived)
    cycle_b = cycle_of(world.tree, M1, world.tree.b)
    changelists.build_change_lists(actor=None, cycle=cycle_b)
    assert items_of(ChangeList.objects.get(cycle=cycle_b)) == {
        "moved_out": [("Chuyển Đến", False)],
        "new": [("Ở Xã B", False)],
    }


def test_amount_before_is_last_months_regular_line(world, events):
    tree = world.tree
    previous = appraise(cycle_of(tree, M0))
    generate_payroll(actor=None, cycle=previous)
    PayrollLine.objects.filter(cycle=previous, beneficiary=events["adjusted"]).update(amount=111_000)
    cycle = cycle_of(tree, M1)
    changelists.build_change_lists(actor=None, cycle=cycle)
    item = ChangeItem.objects.get(change_list__cycle=cycle, kind="adjusted")
    assert item.amount_before == 111_000 and item.amount_after == entitled(events["adjusted"], M1)


def test_late_changes_are_flagged_once(world):
    tree = world.tree
    early = person(tree.a, "Báo Đúng Hạn")
    late = person(
        tree.a,
        "Báo Muộn",
        status="stopped",
        stop_reason="died",
        death_date=date(2026, 1, 9),
        end_month=date(2026, 1, 1),
    )
    previous = cycle_of(tree, M0)
    generated = timezone.now() - timedelta(days=1)
    PayrollRun.objects.create(cycle=previous, generated_at=generated)
    on_time = status(early, "suspended", M0)
    StatusChange.objects.filter(pk=on_time.pk).update(at=generated - timedelta(hours=1))
    status(late, "stopped", M0, reason="died")  # recorded now: after February's payroll
    cycle = cycle_of(tree, M1)
    changelists.build_change_lists(actor=None, cycle=cycle)
    cl = ChangeList.objects.get(cycle=cycle)
    assert items_of(cl) == {"stopped": [("Báo Muộn", True)]}
    item = ChangeItem.objects.get(change_list=cl)
    assert item.effective_month == M0
    # listed in March: not again in April
    april = cycle_of(tree, M2)
    changelists.build_change_lists(actor=None, cycle=april)
    assert items_of(ChangeList.objects.get(cycle=april)) == {}


def test_rebuild_is_idempotent_and_keeps_manual_items(world, events, officer_a):
    cycle = cycle_of(world.tree, M1)
    changelists.build_change_lists(actor=None, cycle=cycle)
    cl = ChangeList.objects.get(cycle=cycle)
    first = sorted(ChangeItem.objects.filter(change_list=cl).values_list("beneficiary_id", "kind", "amount_after"))
    manual = changelists.add_manual_item(
        actor=officer_a, change_list=cl, beneficiary=events["quiet"], amount=-250_000, reason="Nhận thừa tháng 1"
    )
    changelists.build_change_lists(actor=officer_a, cycle=cycle)
    changelists.build_change_lists(actor=None, cycle=cycle)
    again = sorted(
        ChangeItem.objects.filter(change_list=cl)
        .exclude(kind="manual")
        .values_list("beneficiary_id", "kind", "amount_after")
    )
    assert again == first
    assert ChangeItem.objects.filter(change_list=cl, kind="manual").get() == manual
    assert ChangeList.objects.filter(cycle=cycle).count() == 1
    with pytest.raises(changelists.ChangeListRefused):  # a reason is required
        changelists.add_manual_item(actor=officer_a, change_list=cl, beneficiary=events["quiet"], amount=5, reason=" ")
    with pytest.raises(changelists.ChangeListRefused):  # the person must be of the list's commune
        changelists.add_manual_item(
            actor=officer_a, change_list=cl, beneficiary=events["elsewhere"], amount=5, reason="x"
        )
    changelists.remove_manual_item(actor=officer_a, item=manual)
    assert not ChangeItem.objects.filter(change_list=cl, kind="manual").exists()


def test_submit_marks_overdue_and_moves_the_cycle(world, events, officer_a):
    cycle = cycle_of(world.tree, M1)
    changelists.build_change_lists(actor=None, cycle=cycle)
    cl = ChangeList.objects.get(cycle=cycle)
    ChangeItem.objects.filter(change_list=cl).delete()  # the submit rebuilds first
    cl = changelists.submit(actor=officer_a, change_list=cl)
    assert cl.state == ChangeListState.SUBMITTED and cl.overdue  # due 02/03/2026, submitted later
    assert cl.submitted_by == officer_a and ChangeItem.objects.filter(change_list=cl).count() == 9
    cycle.refresh_from_db()
    assert cycle.state == CycleState.CHANGES_SUBMITTED
    event = AuditEvent.objects.filter(action="payroll.cycle.transitioned", object_id=str(cycle.pk)).get()
    assert event.actor == officer_a
    with pytest.raises(changelists.ChangeListRefused):  # submitted: no more changes
        changelists.add_manual_item(actor=officer_a, change_list=cl, beneficiary=events["quiet"], amount=1, reason="x")


def test_a_district_cycle_waits_for_every_commune(world, officer_a, officer_b):
    tree = world.tree
    office = create_org_unit(
        actor=None, kind=OrgKind.APPROVING_OFFICE, name="Phòng LĐTBXH Châu Đốc", area=tree.district
    )
    assign_responsibility(actor=None, org_unit=office, area=tree.district, function=Function.APPROVE)
    cycle = cycle_of(tree, M1, tree.district)
    changelists.build_change_lists(actor=None, cycle=cycle)
    lists = {cl.commune_id: cl for cl in ChangeList.objects.filter(cycle=cycle)}
    assert set(lists) == {tree.a.pk, tree.b.pk}
    with pytest.raises(changelists.ChangeListForbidden):
        changelists.submit(actor=officer_b, change_list=lists[tree.a.pk])
    changelists.submit(actor=officer_a, change_list=lists[tree.a.pk])
    cycle.refresh_from_db()
    assert cycle.state == CycleState.OPEN
    with pytest.raises(TransitionRefused):
        transition(actor=None, cycle=cycle, to_state=CycleState.CHANGES_SUBMITTED)
    changelists.submit(actor=officer_b, change_list=lists[tree.b.pk])
    cycle.refresh_from_db()
    assert cycle.state == CycleState.CHANGES_SUBMITTED
    event = AuditEvent.objects.filter(action="payroll.cycle.transitioned", object_id=str(cycle.pk)).get()
    assert event.actor is None and "Officer B" in event.note  # a system step naming the submitter


def test_return_reopens_and_accept_then_appraise(world, events, officer_a, preparer_a, approver_a):
    cycle = cycle_of(world.tree, M1)
    changelists.build_change_lists(actor=preparer_a, cycle=cycle)
    cl = changelists.submit(actor=officer_a, change_list=ChangeList.objects.get(cycle=cycle))
    with pytest.raises(changelists.ChangeListRefused):
        changelists.return_list(actor=preparer_a, change_list=cl, comment="  ")
    with pytest.raises(changelists.ChangeListForbidden):
        changelists.return_list(actor=approver_a, change_list=cl, comment="x")
    changelists.return_list(actor=preparer_a, change_list=cl, comment="Thiếu quyết định của bà Tạm Dừng")
    cl.refresh_from_db()
    cycle.refresh_from_db()
    assert (cl.state, cycle.state) == (ChangeListState.RETURNED, CycleState.OPEN)
    assert cl.comment.startswith("Thiếu quyết định")
    changelists.submit(actor=officer_a, change_list=cl)
    with pytest.raises(TransitionRefused):  # not accepted yet
        changelists.appraise(actor=preparer_a, cycle=cycle)
    with pytest.raises(changelists.ChangeListForbidden):
        changelists.accept(actor=officer_a, change_list=cl)
    changelists.accept(actor=preparer_a, change_list=cl)
    cycle = changelists.appraise(actor=preparer_a, cycle=cycle)
    assert cycle.state == CycleState.APPRAISED
    with pytest.raises(changelists.ChangeListRefused):  # past the change lists
        changelists.build_change_lists(actor=None, cycle=cycle)


def test_a_late_commune_repeats_last_month_without_the_dead(world, preparer_a, officer_a):
    tree = world.tree
    alive = person(tree.a, "Còn Sống")
    dead = person(tree.a, "Mất Tháng Hai", status="stopped", stop_reason="died", death_date=date(2026, 2, 10))
    Beneficiary.objects.filter(pk=dead.pk).update(end_month=M0)
    previous = appraise(cycle_of(tree, M0), actor=preparer_a)
    generate_payroll(actor=None, cycle=previous)
    assert PayrollLine.objects.filter(cycle=previous).count() == 2
    PayrollLine.objects.filter(cycle=previous, beneficiary=alive).update(amount=123_000)  # last accepted amount
    cycle = cycle_of(tree, M1)
    changelists.build_change_lists(actor=None, cycle=cycle)
    cl = ChangeList.objects.get(cycle=cycle)
    with pytest.raises(changelists.ChangeListRefused):  # the deadline (02/03/2026) has not passed then
        changelists.use_last_accepted(actor=preparer_a, change_list=cl, today=date(2026, 3, 2))
    with pytest.raises(changelists.ChangeListForbidden):
        changelists.use_last_accepted(actor=officer_a, change_list=cl)
    changelists.use_last_accepted(actor=preparer_a, change_list=cl)
    cl.refresh_from_db()
    cycle.refresh_from_db()
    assert cl.used_previous and cl.overdue and cycle.state == CycleState.CHANGES_SUBMITTED
    assert AuditEvent.objects.filter(action="payroll.changelist.used_previous", actor=preparer_a).exists()
    assert changelists.communes_on_previous_list(cycle) == [tree.a.pk]
    changelists.appraise(actor=preparer_a, cycle=cycle)
    generate_payroll(actor=preparer_a, cycle=cycle)
    lines = dict(PayrollLine.objects.filter(cycle=cycle, line_type="regular").values_list("beneficiary_id", "amount"))
    assert lines == {alive.pk: 123_000}


def test_copy_previous_lines_is_set_based_and_idempotent(world):
    tree = world.tree
    alive = person(tree.a, "Một")
    person(tree.b, "Xã Khác")
    previous = appraise(cycle_of(tree, M0))
    generate_payroll(actor=None, cycle=previous)
    cycle = cycle_of(tree, M1)
    assert changelists.copy_previous_lines(cycle, [tree.a.pk]) == 1
    assert changelists.copy_previous_lines(cycle, [tree.a.pk]) == 0  # already there
    assert changelists.copy_previous_lines(cycle, []) == 0
    line = PayrollLine.objects.get(cycle=cycle)
    assert (line.beneficiary_id, line.commune_id, line.line_type) == (alive.pk, tree.a.pk, "regular")


def test_the_command_prints_a_summary(world, events, capsys):
    cycle_of(world.tree, M1)
    call_command("build_change_lists", "--period", "2026-03", "--area", world.tree.a.code)
    out = capsys.readouterr().out
    assert '"lists": 1' in out and '"items": 9' in out


# --- pages and API -----------------------------------------------------------------------------------


@pytest.fixture
def built(world, events):
    cycle = cycle_of(world.tree, M1)
    changelists.build_change_lists(actor=None, cycle=cycle)
    return cycle, ChangeList.objects.get(cycle=cycle)


def test_the_communes_page(built, events, client_for, officer_a, officer_b, viewer_a):
    cycle, cl = built
    url = reverse("payroll:change_list", kwargs={"list_id": cl.pk})
    web = client_for(officer_a)
    html = web.get(url).content.decode()
    assert "Mới Vào" in html and "Đối tượng mới" in html and "Gửi lên phòng" in html
    response = web.post(
        reverse("payroll:change_list_add_item", kwargs={"list_id": cl.pk}),
        {"beneficiary": events["quiet"].pk, "amount": "-100000", "reason": "Thu hồi tiền nhận thừa"},
    )
    assert response.status_code == 302
    assert ChangeItem.objects.filter(change_list=cl, kind="manual", manual_amount=-100_000).exists()
    assert web.post(reverse("payroll:change_list_submit", kwargs={"list_id": cl.pk})).status_code == 302
    cl.refresh_from_db()
    assert cl.state == ChangeListState.SUBMITTED
    assert client_for(officer_b).get(url).status_code == 404
    viewer = client_for(viewer_a)
    assert viewer.get(url).status_code == 200
    assert viewer.post(reverse("payroll:change_list_accept", kwargs={"list_id": cl.pk})).status_code == 403
    html = web.get(reverse("payroll:cycle", args=[cycle.pk])).content.decode()
    assert reverse("payroll:cycle_changes", args=[cycle.pk]) in html


def test_the_offices_page_and_sensitive_categories(built, events, client_for, preparer_a, officer_a, approver_a):
    cycle, cl = built
    hidden = person(events["new"].commune, "Người Nhạy Cảm", start=M1, codes=("D20.5.3",))
    status(hidden, "active", M1, frm="")
    changelists.build_change_lists(actor=None, cycle=cycle)
    changelists.submit(actor=officer_a, change_list=cl)
    office = client_for(preparer_a)
    html = office.get(reverse("payroll:cycle_changes", args=[cycle.pk])).content.decode()
    assert "Châu Phú A" in html and "Chấp nhận" in html
    url = reverse("payroll:change_list", kwargs={"list_id": cl.pk})
    assert "D20.5.3" in office.get(url).content.decode()  # the office decides under it
    office.post(reverse("payroll:change_list_accept", kwargs={"list_id": cl.pk}))
    office.post(reverse("payroll:cycle_changes_appraise", args=[cycle.pk]))
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPRAISED
    assert "D20.5.3" not in client_for(approver_a).get(url).content.decode()  # (the same client, logged in anew)


def test_the_api(built, events, api_client_for, officer_a, officer_b, preparer_a, viewer_a):
    cycle, cl = built
    api = api_client_for(officer_a)
    listed = api.get(f"/api/v1/payroll/cycles/{cycle.pk}/change-lists").json()["items"]
    assert [(x["id"], x["items"]) for x in listed] == [(cl.pk, 9)]
    detail = api.get(f"/api/v1/payroll/change-lists/{cl.pk}").json()
    assert detail["count"] == 9 and {c["kind"] for c in detail["changes"]} >= {"new", "stopped", "moved_in"}
    added = api.post(
        f"/api/v1/payroll/change-lists/{cl.pk}/items",
        {"beneficiary_id": events["quiet"].pk, "amount": 50_000, "reason": "Truy lĩnh tháng 1"},
        content_type="application/json",
    )
    assert added.status_code == 201
    other = api.post(
        f"/api/v1/payroll/change-lists/{cl.pk}/items",
        {"beneficiary_id": events["elsewhere"].pk, "amount": 50_000, "reason": "x"},
        content_type="application/json",
    )
    assert other.status_code == 404
    assert api_client_for(officer_b).get(f"/api/v1/payroll/change-lists/{cl.pk}").status_code == 404
    assert api_client_for(viewer_a).post(f"/api/v1/payroll/change-lists/{cl.pk}/submit").status_code == 403
    assert api.post(f"/api/v1/payroll/change-lists/{cl.pk}/submit").json()["state"] == "submitted"
    office = api_client_for(preparer_a)
    returned = office.post(
        f"/api/v1/payroll/change-lists/{cl.pk}/return", {"comment": "Bổ sung"}, content_type="application/json"
    )
    assert returned.json()["state"] == "returned"
    cycle.refresh_from_db()
    assert cycle.state == CycleState.OPEN
    assert api.delete(f"/api/v1/payroll/change-lists/{cl.pk}/items/{added.json()['id']}").status_code == 204
    assert office.post(f"/api/v1/payroll/change-lists/{cl.pk}/accept").status_code == 422  # not submitted


def test_a_reading_role_cannot_build(world, client_for, viewer_a):
    cycle = cycle_of(world.tree, M1)
    response = client_for(viewer_a).post(reverse("payroll:cycle_changes_build", args=[cycle.pk]))
    assert response.status_code == 403
    assert not ChangeList.objects.exists()
    monitor = make_user("monitor_x", Role.PROVINCE_MONITOR, world.tree.a)
    with pytest.raises(changelists.ChangeListForbidden):
        changelists.build_change_lists(actor=monitor, cycle=cycle)


@pytest.mark.parametrize("role", [Role.COMMUNE_OFFICER, Role.OFFICE_OFFICER, Role.APPROVER, Role.PROVINCE_MONITOR])
def test_the_change_list_pages_are_vietnamese(built, events, client_for, role):
    from django.utils import translation

    from tests.web.test_vietnamese_everywhere import choice_values, english_msgids, findings, visible_text

    cycle, cl = built
    changelists.add_manual_item(
        actor=None, change_list=cl, beneficiary=events["quiet"], amount=-5, reason="Nhận thừa tháng một"
    )
    client = client_for(make_user("canbo" + str(len(role)), role, events["quiet"].commune))
    urls = [
        reverse("payroll:change_lists"),
        reverse("payroll:change_list", kwargs={"list_id": cl.pk}),
        reverse("payroll:cycle_changes", args=[cycle.pk]),
    ]
    choices, msgids = choice_values(), english_msgids()
    problems = []
    with translation.override("vi"):
        for url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
            assert response.status_code == 200, url
            text = visible_text(response.content.decode())
            problems += [f"{url}: {f}" for f in findings(text, choices=choices, msgids=msgids)]
    assert problems == [], "\n".join(problems)


def test_building_takes_a_bounded_number_of_queries(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree = world.tree
    category = Category.objects.get(code=CODE)
    people = Beneficiary.objects.bulk_create(
        [
            Beneficiary(
                full_name=f"N{i}",
                birth_date=date(1930 + i % 20, 1 + i % 12, 1),
                gender="female",
                commune=tree.a,
                area_path=tree.a.path,
                start_month=M1,
            )
            for i in range(200)
        ]
    )
    BeneficiaryCategory.objects.bulk_create(
        [BeneficiaryCategory(beneficiary=b, category=category, from_month=M1) for b in people]
    )
    StatusChange.objects.bulk_create(
        [StatusChange(beneficiary=b, from_status="", to_status="active", effective_month=M1) for b in people]
    )
    cycle = cycle_of(tree, M1)
    with CaptureQueriesContext(connection) as ctx:
        summary = changelists.build_change_lists(actor=None, cycle=cycle)
    assert summary["items"] == 200
    assert len(ctx.captured_queries) < 40, len(ctx.captured_queries)


def test_generate_payroll_command_refuses_an_open_cycle(world, capsys):
    import json

    from django.utils import translation

    tree = world.tree
    person(tree.a, "Một")
    open_cycle = cycle_of(tree, M1)
    with translation.override("vi"):
        call_command("generate_payroll", "--period", "2026-03", "--area", tree.a.code)
    out = json.loads(capsys.readouterr().out)
    skipped = {s["cycle"]: s for s in out["skipped"]}
    assert "Danh sách thay đổi" in skipped[open_cycle.pk]["reason"] and out["lines"] == 0
    appraise(open_cycle)
    call_command("generate_payroll", "--period", "2026-03", "--area", tree.a.code)
    assert json.loads(capsys.readouterr().out)["lines"] == 1
