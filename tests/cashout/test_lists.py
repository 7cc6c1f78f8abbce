"""The cash lists of a cycle (ansinh.cashout.lists): who is on which list, for how much, in what
order; switched lines; rebuilding."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from ansinh.audit.models import AuditEvent
from ansinh.cashout import lists, pay_points
from ansinh.cashout.models import CashEntry, CashEntryLine, CashList, DeliveryRoute, EntrySource, EntryState
from ansinh.core.text import name_sort_key
from ansinh.payroll import fixes
from ansinh.payroll.models import Channel, FixKind, LineType, PayrollLine
from ansinh.registry.models import Beneficiary, Status

from .conftest import ACCOUNT_PERSON, HOME_PEOPLE, totp_code

pytestmark = pytest.mark.django_db


def _entries(cash_list):
    return list(CashEntry.objects.filter(cash_list=cash_list).exclude(state="cancelled").order_by("position"))


def _live(cycle):
    return CashEntry.objects.filter(cycle=cycle).exclude(state=EntryState.CANCELLED)


def test_one_list_per_pay_point_and_route_with_their_people(cash_cycle, cash_lists, cash_places):
    point, route = cash_places
    by_kind = {cl.kind: cl for cl in cash_lists}
    assert set(by_kind) == {"pay_point", "home"}
    assert by_kind["pay_point"].pay_point == point and by_kind["home"].route == route
    on_point = _entries(by_kind["pay_point"])
    on_route = _entries(by_kind["home"])
    # village 1 (Khóm Châu Long 1) before village 2, by name within the village
    assert [e.beneficiary.full_name for e in on_point] == ["Lê Thị Chi", "Trần Văn Điểm", "Phạm Văn Làng Hai"]
    assert [e.position for e in on_point] == [1, 2, 3]
    assert {e.beneficiary.full_name for e in on_route} == set(HOME_PEOPLE)
    assert ACCOUNT_PERSON not in {e.beneficiary.full_name for e in _live(cash_cycle)}
    for cl in cash_lists:
        cl.refresh_from_db()
        entries = _entries(cl)
        assert cl.entries_count == len(entries)
        assert cl.total_amount == sum(e.amount for e in entries)
    # the amount is the person's cash lines, and every line is linked
    for e in _live(cash_cycle):
        lines = PayrollLine.objects.filter(cash_entry_lines__entry=e)
        assert e.amount == sum(line.amount for line in lines) > 0
        assert e.source == EntrySource.PAYROLL and e.state == EntryState.PENDING
        assert e.payee_name == lines.get(line_type=LineType.REGULAR).payee_name


def test_rebuilding_changes_nothing(cash_cycle, cash_lists, preparer_a):
    before = list(_live(cash_cycle).values_list("pk", "cash_list_id", "position", "amount"))
    result = lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    assert (result.created, result.cancelled) == (0, 0)
    assert result.kept == len(before)
    assert list(_live(cash_cycle).values_list("pk", "cash_list_id", "position", "amount")) == before
    assert CashList.objects.filter(cycle=cash_cycle).count() == 2
    assert AuditEvent.objects.filter(action="cashout.lists.built").count() == 2


def test_a_line_switched_to_cash_shows_up_when_the_fix_is_approved(
    cash_cycle, cash_lists, people, preparer_a, approver_a
):
    line = PayrollLine.objects.get(cycle=cash_cycle, beneficiary=people[ACCOUNT_PERSON], line_type="regular")
    fix = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="Tài khoản bị từ chối")
    assert not _live(cash_cycle).filter(beneficiary=people[ACCOUNT_PERSON]).exists()
    fixes.approve_fix(actor=approver_a, fix=fix, token=totp_code(approver_a, 1))
    entry = _live(cash_cycle).get(beneficiary=people[ACCOUNT_PERSON])
    assert entry.source == EntrySource.SWITCHED
    assert entry.amount == line.amount
    assert entry.cash_list.kind == "pay_point"
    assert list(entry.entry_lines.values_list("line_id", flat=True)) == [line.pk]
    entry.cash_list.refresh_from_db()
    assert entry.cash_list.entries_count == 4


def _assert_numbered_in_list_order(cycle):
    """Every list's live entries are numbered 1..n, village by village (Vietnamese order of the
    village's name), then by the person's name."""
    for cl in CashList.objects.filter(cycle=cycle):
        entries = _entries(cl)
        assert [e.position for e in entries] == list(range(1, len(entries) + 1)), cl
        keys = [(name_sort_key(e.village.name), e.funeral, name_sort_key(e.beneficiary.full_name)) for e in entries]
        assert keys == sorted(keys), cl


def test_positions_follow_village_and_name_after_a_build_and_a_rebuild_with_a_switched_line(
    cash_cycle, cash_lists, people, preparer_a, approver_a
):
    point_list = next(cl for cl in cash_lists if cl.kind == "pay_point")
    _assert_numbered_in_list_order(cash_cycle)
    assert [(e.position, e.beneficiary.full_name) for e in _entries(point_list)] == [
        (1, "Lê Thị Chi"),
        (2, "Trần Văn Điểm"),
        (3, "Phạm Văn Làng Hai"),
    ]
    village_2 = _live(cash_cycle).get(beneficiary=people["Phạm Văn Làng Hai"])
    # a line switched to cash: its person (village 1, "Khoản" after "Điểm") goes in before village 2
    line = PayrollLine.objects.get(cycle=cash_cycle, beneficiary=people[ACCOUNT_PERSON], line_type="regular")
    fix = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="Tài khoản bị từ chối")
    fixes.approve_fix(actor=approver_a, fix=fix, token=totp_code(approver_a, 1))
    _assert_numbered_in_list_order(cash_cycle)
    assert [(e.position, e.beneficiary.full_name) for e in _entries(point_list)] == [
        (1, "Lê Thị Chi"),
        (2, "Trần Văn Điểm"),
        (3, ACCOUNT_PERSON),
        (4, "Phạm Văn Làng Hai"),
    ]
    assert _live(cash_cycle).get(beneficiary=people["Phạm Văn Làng Hai"]).pk == village_2.pk  # kept, renumbered
    # rebuilding again changes no number
    before = list(_live(cash_cycle).values_list("pk", "position"))
    lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    assert list(_live(cash_cycle).values_list("pk", "position")) == before


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(["An", "Bình", "Đào", "Út"]), st.booleans(), st.booleans()),
        max_size=12,
    )
)
def test_numbering_gives_each_list_1_to_n_in_order_new_and_kept_alike(people_rows):
    """`_number`: new entries get their number before they are written; kept entries whose
    number changes are returned (a list of two lists, entries kept or new, any order)."""
    villages = [None, "Khóm Ấp Đông", "Khóm An"]
    kept, new = [], []
    for i, (v, name, funeral, is_kept) in enumerate(people_rows):
        entry = CashEntry(cash_list_id=i % 2 + 1, beneficiary_id=i, funeral=funeral, position=99)
        if is_kept:
            entry.pk = 1000 + i
            entry.order_village, entry.order_sort_key, entry.order_name = villages[v], "", f"Lê {name}"
            kept.append(entry)
        else:
            entry.cash_list = CashList(pk=i % 2 + 1)
            w = lists._Wanted(
                beneficiary_id=i, funeral=funeral, commune_id=1, village_id=v, home=False, village_name=villages[v]
            )
            w.sort_key = name_sort_key(f"Lê {name}")
            new.append((entry, w))
    moved = dict(lists._number(kept, new))
    position = {id(e): moved.get(e.pk, e.position) for e in kept} | {id(e): e.position for e, _w in new}
    for list_id in (1, 2):
        mine = [e for e in kept if e.cash_list_id == list_id] + [e for e, _w in new if e.cash_list_id == list_id]
        mine.sort(key=lambda e: position[id(e)])
        assert [position[id(e)] for e in mine] == list(range(1, len(mine) + 1))
        names = {e.beneficiary_id: people_rows[e.beneficiary_id] for e in mine}
        keys = [
            (
                names[e.beneficiary_id][0] == 0,
                name_sort_key(villages[names[e.beneficiary_id][0]] or ""),
                e.funeral,
                name_sort_key(f"Lê {names[e.beneficiary_id][1]}"),
            )
            for e in mine
        ]
        assert keys == sorted(keys)


def test_a_line_moved_to_an_account_leaves_the_list(cash_cycle, cash_lists, people, preparer_a, approver_a):
    from tests.disbursement.conftest import open_account

    b = people["Trần Văn Điểm"]
    entry = _live(cash_cycle).get(beneficiary=b)
    account = open_account(b, "1000200038888")
    line = PayrollLine.objects.get(cycle=cash_cycle, beneficiary=b, line_type="regular")
    fix = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.RESEND, account=account, reason="Có tài khoản")
    fixes.approve_fix(actor=approver_a, fix=fix, token=totp_code(approver_a, 1))
    entry.refresh_from_db()
    assert entry.state == EntryState.CANCELLED
    assert not _live(cash_cycle).filter(beneficiary=b).exists()
    cl = entry.cash_list
    cl.refresh_from_db()
    assert cl.entries_count == 2
    assert [e.position for e in _entries(cl)] == [1, 2]


def test_paid_entries_are_kept_and_a_person_never_has_two_live_entries(cash_cycle, cash_lists, people, preparer_a):
    b = people["Lê Thị Chi"]
    entry = _live(cash_cycle).get(beneficiary=b)
    CashEntry.objects.filter(pk=entry.pk).update(state=EntryState.PAID)
    # stopped since the lists were made: a pending entry would be taken off, a paid one stays
    Beneficiary.objects.filter(pk=b.pk).update(status=Status.STOPPED, stop_reason="moved", end_month=date(2026, 2, 1))
    result = lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    entry.refresh_from_db()
    assert entry.state == EntryState.PAID
    assert result.cancelled == 0
    assert _live(cash_cycle).filter(beneficiary=b).count() == 1


def test_a_person_stopped_after_approval_is_taken_off(cash_cycle, cash_lists, people, preparer_a):
    b = people["Võ Văn Ở Nhà"]
    Beneficiary.objects.filter(pk=b.pk).update(status=Status.SUSPENDED)
    result = lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    assert result.cancelled == 1
    assert CashEntry.objects.get(beneficiary=b).state == EntryState.CANCELLED
    assert CashEntryLine.objects.filter(entry__beneficiary=b).exists()  # the history stays


def test_village_decides_the_pay_point(cash_cycle, cash_places, preparer_a, provider_a, village_b, world):
    pay_points.create_pay_point(
        actor=preparer_a,
        commune=world.tree.a,
        data=pay_points.PayPointInput(
            name="Nhà văn hóa Khóm 2", kind="other", address="Khóm Châu Long 2", villages=[village_b]
        ),
    )
    result = lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    assert len(result.lists) == 3
    entry = _live(cash_cycle).get(beneficiary__full_name="Phạm Văn Làng Hai")
    assert entry.cash_list.pay_point.name == "Nhà văn hóa Khóm 2"
    assert entry.position == 1
    # the others go to the pay point serving the whole commune
    others = _live(cash_cycle).filter(cash_list__kind="pay_point").exclude(pk=entry.pk)
    assert {e.cash_list.pay_point.name for e in others} == {"Bưu điện Châu Phú A"}


def test_without_places_home_gets_a_route_and_pay_points_are_reported(funded, preparer_a):
    result = lists.build_cash_lists(actor=preparer_a, cycle=funded)
    assert len(result.routes_created) == 1
    route = DeliveryRoute.objects.get()
    assert route.name == result.routes_created[0]
    assert _live(funded).filter(cash_list__route=route).count() == len(HOME_PEOPLE)
    assert len(result.refusals) == 1 and "3" in result.refusals[0]
    assert not _live(funded).filter(cash_list__kind="pay_point").exists()
    assert AuditEvent.objects.filter(action="cashout.route.created").count() == 1


def test_only_managers_build_and_only_a_funded_cycle(approved, cash_places, provider_a, preparer_a):
    with pytest.raises(PermissionDenied):
        lists.build_cash_lists(actor=provider_a, cycle=approved)
    with pytest.raises(ValidationError):
        lists.build_cash_lists(actor=preparer_a, cycle=approved)
    assert not CashList.objects.exists()


# --- the net per person (pure) ---------------------------------------------------------------------

_types = st.sampled_from([LineType.REGULAR, LineType.ARREARS, LineType.RECOVERY, LineType.FUNERAL])


@given(
    st.lists(
        st.tuples(st.integers(1, 4), _types, st.integers(-2_000_000, 3_000_000), st.sampled_from(list(Channel))),
        max_size=20,
    )
)
def test_the_entry_is_the_net_of_the_persons_cash_lines(rows):
    lines = [
        {
            "pk": i,
            "beneficiary_id": b,
            "line_type": t,
            "amount": abs(a) if t != LineType.RECOVERY else -abs(a),
            "channel": c,
            "effective_channel": Channel.PAY_POINT if c == Channel.ACCOUNT else c,
            "payee_name": f"P{b}",
            "representation_id": None,
            "commune_id": 1,
            "area_path": "/1/",
            "beneficiary__village_id": None,
            "beneficiary__village__name": None,
            "beneficiary__sort_key": f"p{b}",
            "beneficiary__full_name": f"P{b}",
        }
        for i, (b, t, a, c) in enumerate(rows)
    ]
    wanted = lists._wanted(lines)
    for (b, funeral), w in wanted.items():
        mine = [x for x in lines if x["beneficiary_id"] == b and (x["line_type"] == LineType.FUNERAL) == funeral]
        assert w.amount == sum(x["amount"] for x in mine)
        assert w.line_ids == {x["pk"] for x in mine}
        assert w.switched == any(x["channel"] == Channel.ACCOUNT for x in mine)
        if funeral:
            assert not w.home
    assert sum(len(w.line_ids) for w in wanted.values()) == len(lines)


# --- pages, print, API, CLI ---------------------------------------------------------------------------


def test_pages_build_and_show_the_lists(cash_cycle, cash_places, preparer_a, provider_a, viewer_a, client_for):
    from django.urls import reverse

    from ansinh.cashout.models import CashList

    client = client_for(preparer_a)
    page = client.get(reverse("cashout:cycle_lists", args=[cash_cycle.pk]))
    assert page.status_code == 200 and 'data-form="cash-lists-build"' in page.content.decode()
    client.post(reverse("cashout:cycle_build", args=[cash_cycle.pk]))
    point_list = CashList.objects.get(cycle=cash_cycle, kind="pay_point")
    assert point_list.entries_count == 3
    assert client.get(reverse("cashout:cycles")).status_code == 200
    # the provider's staff read the list on a phone; the CCCD shows its last digits only
    staff = client_for(provider_a)
    cards = staff.get(reverse("cashout:cash_list", args=[point_list.pk])).content.decode()
    assert cards.count("data-entry=") == 3 and "Phạm Văn Làng Hai" in cards
    printed = staff.get(reverse("cashout:cash_list_print", args=[point_list.pk])).content.decode()
    assert printed.count("data-subtotal") == 2 and "data-sign" in printed
    assert "BƯU ĐIỆN" not in printed or "Bưu điện Châu Phú A" in printed
    assert "03/2026" in printed and "Châu Phú A" in printed
    # a reader may not make the lists
    assert client_for(viewer_a).post(reverse("cashout:cycle_build", args=[cash_cycle.pk])).status_code == 403


def test_cccd_is_masked_on_the_lists(cash_cycle, cash_lists, people, provider_a, client_for, api_client_for):
    from django.urls import reverse

    b = people["Trần Văn Điểm"]
    type(b).objects.filter(pk=b.pk).update(cccd="089040012345")
    point_list = next(cl for cl in cash_lists if cl.kind == "pay_point")
    html = client_for(provider_a).get(reverse("cashout:cash_list_print", args=[point_list.pk])).content.decode()
    assert "089040012345" not in html and "********2345" in html
    body = api_client_for(provider_a).get(f"/api/v1/cash/lists/{point_list.pk}").json()
    assert "********2345" in {e["cccd"] for e in body["entries"]}
    assert "089040012345" not in str(body)


def test_api_lists(cash_cycle, cash_places, preparer_a, officer_b, viewer_a, api_client_for):
    api = api_client_for(preparer_a)
    built = api.post(f"/api/v1/cash/cycles/{cash_cycle.pk}/lists")
    assert built.status_code == 200, built.content
    assert built.json()["created"] == 5 and len(built.json()["lists"]) == 2
    again = api.post(f"/api/v1/cash/cycles/{cash_cycle.pk}/lists").json()
    assert (again["created"], again["cancelled"], again["kept"]) == (0, 0, 5)
    listed = api.get(f"/api/v1/cash/cycles/{cash_cycle.pk}/lists").json()["lists"]
    home = next(cl for cl in listed if cl["kind"] == "home")
    detail = api.get(f"/api/v1/cash/lists/{home['id']}").json()
    assert [e["position"] for e in detail["entries"]] == [1, 2]
    assert sum(e["amount"] for e in detail["entries"]) == home["total_amount"]
    assert api_client_for(viewer_a).post(f"/api/v1/cash/cycles/{cash_cycle.pk}/lists").status_code == 403
    assert api_client_for(officer_b).get(f"/api/v1/cash/lists/{home['id']}").status_code == 404
    assert api_client_for(officer_b).get(f"/api/v1/cash/cycles/{cash_cycle.pk}/lists").status_code == 404


def test_cli_is_idempotent(cash_cycle, cash_places):
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("build_cash_lists", "--cycle", str(cash_cycle.pk), stdout=out)
    first = json.loads(out.getvalue())
    assert first[0]["created"] == 5
    out = StringIO()
    call_command("build_cash_lists", "--period", "2026-03", "--area", "30280", stdout=out)
    second = json.loads(out.getvalue())
    assert (second[0]["created"], second[0]["kept"]) == (0, 5)


@pytest.mark.parametrize("extra_people", [0, 6])
def test_building_costs_the_same_queries_whatever_the_number_of_people(
    cash_cycle, preparer_a, extra_people, django_assert_num_queries
):
    """Set-based: the first build and a rebuild cost a fixed number of queries (5 or 11 people)."""
    with django_assert_num_queries(FIRST_BUILD_QUERIES):
        first = lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    assert first.created == 5 + extra_people
    with django_assert_num_queries(REBUILD_QUERIES):
        lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)


FIRST_BUILD_QUERIES = 23
REBUILD_QUERIES = 18


def test_demo_places_and_lists_are_idempotent(funded, provider_a):
    from ansinh.audit.models import AuditEvent
    from ansinh.cashout.demo import load_demo_cash_lists
    from ansinh.cashout.models import PayDay, PayPoint

    first = load_demo_cash_lists()
    assert first["communes"] == 1 and first["entries"] == 5
    point = PayPoint.objects.get()
    assert list(point.staff.all()) == [provider_a]
    days = list(PayDay.objects.filter(pay_point=point).order_by("day"))
    assert days and days[0].day == date(2026, 3, 6)  # from the transfers deadline
    events = AuditEvent.objects.count()
    second = load_demo_cash_lists()
    assert second["entries"] == 0
    assert AuditEvent.objects.count() == events  # lists that exist are not rebuilt: nothing recorded


def test_list_pages_read_a_fixed_number_of_queries(cash_lists, provider_a, client_for, django_assert_max_num_queries):
    from django.urls import reverse

    client = client_for(provider_a)
    for cl in cash_lists:
        for name in ("cashout:cash_list", "cashout:cash_list_print"):
            with django_assert_max_num_queries(LIST_PAGE_QUERIES):
                assert client.get(reverse(name, args=[cl.pk])).status_code == 200


LIST_PAGE_QUERIES = 12


def test_cash_pages_read_as_vietnamese(cash_cycle, cash_lists, cash_places, preparer_a, provider_a, client_for):
    """The pay point, route, coverage and cash-list pages hold no English and no raw code."""
    from django.urls import reverse

    from tests.web.test_vietnamese_everywhere import choice_values, english_msgids, findings, visible_text

    point, route = cash_places
    cl = next(c for c in cash_lists if c.kind == "pay_point")
    urls = [
        reverse("cashout:pay_points"),
        reverse("cashout:pay_point", args=[point.pk]) + "?month=2026-03",
        reverse("cashout:pay_point_edit", args=[point.pk]),
        reverse("cashout:pay_point_create"),
        reverse("cashout:routes"),
        reverse("cashout:route", args=[route.pk]),
        reverse("cashout:route_create"),
        reverse("cashout:coverage"),
        reverse("cashout:cycles"),
        reverse("cashout:cycle_lists", args=[cash_cycle.pk]),
        reverse("cashout:cash_list", args=[cl.pk]),
        reverse("cashout:cash_list_print", args=[cl.pk]),
    ]
    choices, msgids = choice_values(), english_msgids()
    problems = []
    for user in (preparer_a, provider_a):
        client = client_for(user)
        for url in urls:
            r = client.get(url)
            if r.status_code == 403:
                continue
            assert r.status_code == 200, url
            html = b"".join(r.streaming_content) if r.streaming else r.content
            problems += [f"{url}: {p}" for p in findings(visible_text(html.decode()), choices=choices, msgids=msgids)]
    # the test users' own names and logins ("Preparer A", "provider_a")
    own = ("'Provider'", "'Preparer'", "'preparer_a'", "'provider_a'")
    problems = [p for p in problems if not any(w in p for w in own)]
    assert problems == [], "\n".join(problems)
