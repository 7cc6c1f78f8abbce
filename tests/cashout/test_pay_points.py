"""Pay points, routes and pay days (ansinh.cashout.pay_points), through the services, the pages
and the API."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.cashout import pay_points
from ansinh.cashout.models import DeliveryRoute, PayDay, PayPoint
from ansinh.payroll.models import CycleDeadline, DeadlineKind
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


def _point(actor, commune, name="Bưu điện Châu Phú A", **kw):
    data = pay_points.PayPointInput(name=name, kind=kw.pop("kind", "post_office"), address="12 Tôn Đức Thắng", **kw)
    return pay_points.create_pay_point(actor=actor, commune=commune, data=data)


def test_create_and_update_a_pay_point_with_villages_and_staff(tree, officer_a):
    staff = make_user("buu_ta_a", Role.PROVIDER_STAFF, tree.district)  # the district post office
    point = _point(officer_a, tree.a, atm_nearby=True, atm_note="Agribank", villages=[tree.village_a], staff=[staff])
    assert point.area_path == tree.a.path
    assert list(point.villages.all()) == [tree.village_a]
    assert list(point.staff.all()) == [staff]
    event = AuditEvent.objects.get(action="cashout.pay_point.created")
    assert event.after["staff"] == ["buu_ta_a"]

    data = pay_points.PayPointInput(name="Bưu điện Châu Phú A", kind="commune_hall", address="UBND phường")
    pay_points.update_pay_point(actor=officer_a, pay_point=point, data=data)
    point.refresh_from_db()
    assert (point.kind, point.atm_nearby, point.atm_note) == ("commune_hall", False, "")
    assert not point.villages.exists() and not point.staff.exists()
    updated = AuditEvent.objects.get(action="cashout.pay_point.updated")
    assert updated.before["kind"] == "post_office" and updated.after["kind"] == "commune_hall"


def test_refusals_in_vietnamese_rules(tree, officer_a, officer_b, viewer_a):
    other_staff = make_user("buu_ta_b", Role.PROVIDER_STAFF, tree.b)
    with pytest.raises(PermissionDenied):
        _point(viewer_a, tree.a)
    with pytest.raises(PermissionDenied):
        _point(officer_b, tree.a)
    with pytest.raises(ValidationError) as staff_error:
        _point(officer_a, tree.a, staff=[other_staff])
    assert "staff" in staff_error.value.message_dict
    from ansinh.areas.models import Area, Level, Tree

    village_b = Area.objects.create(tree=Tree.LEGACY, level=Level.VILLAGE, name="Ấp B", parent=tree.b)
    with pytest.raises(ValidationError) as village_error:
        _point(officer_a, tree.a, villages=[village_b])
    assert "villages" in village_error.value.message_dict
    _point(officer_a, tree.a)
    with pytest.raises(ValidationError) as dup:
        _point(officer_a, tree.a, name="bưu điện châu phú a")
    assert "name" in dup.value.message_dict
    assert PayPoint.objects.count() == 1


def test_the_last_pay_point_in_use_stays(tree, officer_a):
    first = _point(officer_a, tree.a)
    with pytest.raises(ValidationError) as refused:
        pay_points.set_pay_point_active(actor=officer_a, pay_point=first, active=False)
    assert "ít nhất một" in " ".join(refused.value.messages) or "at least one" in " ".join(refused.value.messages)
    second = _point(officer_a, tree.a, name="Nhà văn hóa", kind="other")
    pay_points.set_pay_point_active(actor=officer_a, pay_point=first, active=False)
    first.refresh_from_db()
    assert not first.active
    with pytest.raises(ValidationError):
        pay_points.set_pay_point_active(actor=officer_a, pay_point=second, active=False)
    pay_points.set_pay_point_active(actor=officer_a, pay_point=first, active=True)
    assert PayPoint.objects.filter(active=True).count() == 2


def test_pay_days_are_never_before_the_transfers_deadline(tree, officer_a, policy):
    point = _point(officer_a, tree.a)
    deadline = pay_points.transfers_deadline(tree.a, MARCH)
    assert deadline == date(2026, 3, 6)  # the plan's day 8 is a Sunday: the previous working day
    early = pay_points.DayInput(day=date(2026, 3, 5), opens=time(7), closes=time(11))
    with pytest.raises(ValidationError) as refused:
        pay_points.set_pay_days(actor=officer_a, month=MARCH, days=[early], pay_point=point)
    assert "05/03/2026" in " ".join(refused.value.messages)
    days = [
        pay_points.DayInput(day=date(2026, 3, 7), opens=time(7), closes=time(11), note="Thứ Bảy"),
        pay_points.DayInput(day=date(2026, 3, 6), opens=time(7), closes=time(16)),
    ]
    pay_points.set_pay_days(actor=officer_a, month=date(2026, 3, 15), days=days, pay_point=point)
    saved = list(pay_points.days_of(point, MARCH))
    assert [d.day for d in saved] == [date(2026, 3, 6), date(2026, 3, 7)]
    assert pay_points.non_working(date(2026, 3, 7)) and not pay_points.non_working(date(2026, 3, 6))
    # replacing the month's days
    pay_points.set_pay_days(actor=officer_a, month=MARCH, days=days[:1], pay_point=point)
    assert PayDay.objects.filter(pay_point=point).count() == 1
    with pytest.raises(ValidationError):
        bad = pay_points.DayInput(day=date(2026, 4, 9), opens=time(11), closes=time(7))
        pay_points.set_pay_days(actor=officer_a, month=MARCH, days=[bad], pay_point=point)
    assert AuditEvent.objects.filter(action="cashout.days.set").count() == 2


def test_the_cycle_deadline_wins_over_the_calendar(cash_cycle, world, preparer_a, cash_places):
    point, route = cash_places
    deadline = CycleDeadline.objects.get(cycle=cash_cycle, kind=DeadlineKind.TRANSFERS)
    CycleDeadline.objects.filter(pk=deadline.pk).update(due_date=date(2026, 3, 10))
    day = pay_points.DayInput(day=date(2026, 3, 9), opens=time(7), closes=time(11))
    with pytest.raises(ValidationError):
        pay_points.set_pay_days(actor=preparer_a, month=MARCH, days=[day], route=route)
    day.day = date(2026, 3, 10)
    pay_points.set_pay_days(actor=preparer_a, month=MARCH, days=[day], route=route)
    assert route.days.count() == 1


def test_routes(tree, officer_a):
    route = pay_points.create_route(
        actor=officer_a, commune=tree.a, data=pay_points.RouteInput(name="Tuyến 1", villages=[tree.village_a])
    )
    pay_points.update_route(actor=officer_a, route=route, data=pay_points.RouteInput(name="Tuyến Khóm 1"))
    pay_points.set_route_active(actor=officer_a, route=route, active=False)
    route.refresh_from_db()
    assert (route.name, route.active, route.villages.count()) == ("Tuyến Khóm 1", False, 0)
    assert set(AuditEvent.objects.filter(action__startswith="cashout.route.").values_list("action", flat=True)) == {
        "cashout.route.created",
        "cashout.route.updated",
        "cashout.route.deactivated",
    }


# --- pages and API ------------------------------------------------------------------------------------


def test_pages_create_edit_and_set_days(tree, officer_a, client_for, policy):
    client = client_for(officer_a)
    response = client.post(
        reverse("cashout:pay_point_create"),
        {"commune": tree.a.pk, "name": "Bưu điện Châu Phú A", "kind": "post_office", "address": "12 Tôn Đức Thắng"},
    )
    point = PayPoint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cashout:pay_point", args=[point.pk])
    page = client.get(reverse("cashout:pay_point", args=[point.pk]) + "?month=2026-03")
    text = page.content.decode()
    assert "Bưu điện Châu Phú A" in text and "06/03/2026" in text
    post = {
        "month": "2026-03",
        "days-TOTAL_FORMS": "2",
        "days-INITIAL_FORMS": "0",
        "days-0-day": "2026-03-05",
        "days-0-opens": "07:00",
        "days-0-closes": "11:00",
        "days-1-day": "",
    }
    client.post(reverse("cashout:pay_point_days", args=[point.pk]), post)
    assert not PayDay.objects.exists()
    page = client.get(reverse("cashout:pay_point", args=[point.pk]) + "?month=2026-03")
    assert "trước hạn chuyển khoản" in page.content.decode() or "before the transfers deadline" in page.content.decode()
    post["days-0-day"] = "2026-03-07"
    client.post(reverse("cashout:pay_point_days", args=[point.pk]), post)
    assert PayDay.objects.get().day == date(2026, 3, 7)
    page = client.get(reverse("cashout:pay_point", args=[point.pk]) + "?month=2026-03")
    assert "data-non-working" in page.content.decode()
    edit = client.post(
        reverse("cashout:pay_point_edit", args=[point.pk]),
        {"name": "Bưu điện mới", "kind": "other", "address": "Chợ", "atm_nearby": "on", "atm_note": "Cổng chợ"},
    )
    assert edit.status_code == 302
    point.refresh_from_db()
    assert (point.name, point.atm_nearby) == ("Bưu điện mới", True)
    assert client.get(reverse("cashout:pay_points")).status_code == 200
    deactivate = client.post(reverse("cashout:pay_point_active", args=[point.pk]), {"active": "0"}, follow=True)
    point.refresh_from_db()
    assert point.active and deactivate.status_code == 200


def test_route_pages(tree, officer_a, client_for):
    client = client_for(officer_a)
    client.post(
        reverse("cashout:route_create"), {"commune": tree.a.pk, "name": "Tuyến 1", "villages": [tree.village_a.pk]}
    )
    route = DeliveryRoute.objects.get()
    assert list(route.villages.all()) == [tree.village_a]
    assert client.get(reverse("cashout:route", args=[route.pk])).status_code == 200
    assert client.get(reverse("cashout:routes")).status_code == 200
    assert client.get(reverse("cashout:route_edit", args=[route.pk])).status_code == 200


def test_api_pay_points_and_days(tree, officer_a, viewer_a, officer_b, api_client_for, policy):
    api = api_client_for(officer_a)
    body = {"commune_id": tree.a.pk, "name": "Bưu điện", "kind": "post_office", "address": "12 Tôn Đức Thắng"}
    created = api.post("/api/v1/cash/pay-points", body, content_type="application/json")
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["kind_label"] == "Bưu điện"
    days = {"month": "2026-03-01", "days": [{"day": "2026-03-02", "opens": "07:00", "closes": "11:00"}]}
    refused = api.put(f"/api/v1/cash/pay-points/{pid}/days", days, content_type="application/json")
    assert refused.status_code == 422
    days["days"][0]["day"] = "2026-03-09"
    ok = api.put(f"/api/v1/cash/pay-points/{pid}/days", days, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["transfers_deadline"] == "2026-03-06"
    assert [d["day"] for d in ok.json()["days"]] == ["2026-03-09"]
    assert api.get(f"/api/v1/cash/pay-points/{pid}/days?month=2026-03-01").json()["days"][0]["opens"] == "07:00:00"
    off = api.post(f"/api/v1/cash/pay-points/{pid}/active", {"active": False}, content_type="application/json")
    assert off.status_code == 422
    reader = api_client_for(viewer_a)
    assert reader.get(f"/api/v1/cash/pay-points/{pid}").status_code == 200
    put = reader.put(f"/api/v1/cash/pay-points/{pid}", body, content_type="application/json")
    assert put.status_code == 403
    outsider = api_client_for(officer_b)
    assert outsider.get(f"/api/v1/cash/pay-points/{pid}").status_code == 404
    assert outsider.get("/api/v1/cash/pay-points").json()["count"] == 0
    assert outsider.post("/api/v1/cash/pay-points", body, content_type="application/json").status_code == 404
    route = api.post(
        "/api/v1/cash/routes",
        {"commune_id": tree.a.pk, "name": "Tuyến 1", "village_ids": [tree.village_a.pk]},
        content_type="application/json",
    )
    assert route.status_code == 201 and route.json()["villages"][0]["name"] == tree.village_a.name


def test_events_read_as_vietnamese(cash_cycle, cash_lists, cash_places, preparer_a, officer_a):
    from ansinh.cashout import lists
    from tests.web.test_audit_text import ENGLISH, RAW, rendered_texts

    point, route = cash_places
    pay_points.update_pay_point(
        actor=preparer_a,
        pay_point=point,
        data=pay_points.PayPointInput(name=point.name, kind="commune_hall", address="UBND", atm_nearby=False),
    )
    pay_points.set_pay_days(
        actor=preparer_a,
        month=MARCH,
        days=[pay_points.DayInput(day=date(2026, 3, 9), opens=time(7), closes=time(11))],
        route=route,
    )
    pay_points.set_route_active(actor=preparer_a, route=route, active=False)
    lists.build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    events = list(AuditEvent.objects.filter(action__startswith="cashout.").select_related("actor").order_by("id"))
    assert {e.action for e in events} >= {
        "cashout.pay_point.created",
        "cashout.pay_point.updated",
        "cashout.route.created",
        "cashout.days.set",
        "cashout.route.deactivated",
        "cashout.lists.built",
    }
    texts = rendered_texts(events, officer_a)
    joined = "\n".join(texts)
    assert "09/03/2026" in joined and "03/2026" in joined and "điểm chi trả" in joined
    for text in texts:
        assert not ENGLISH.search(text), text
        assert not any(p.search(text) for p in RAW), text
