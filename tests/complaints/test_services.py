"""Lodging (online and by staff), routing by topic, due dates over public holidays, the state
transitions (and those refused), linking records of the complaint's commune only, the SMS on
closing and the public status check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from ansinh.audit.models import AuditEvent
from ansinh.complaints import services
from ansinh.complaints.deadlines import add_working_days, due_date
from ansinh.complaints.models import ROUTE_BY_TOPIC, Channel, Complaint, Kind, RoutedTo, State, Topic
from ansinh.core.errors import InvalidTransition
from ansinh.notifications.models import Message
from ansinh.payroll.calendar import is_working_day

from .conftest import CCCD_A, lodge

ONLINE = {
    "kind": Kind.FEEDBACK,
    "topic": Topic.CANNOT_WITHDRAW,
    "name": "Lê Văn Hỏi",
    "phone": "0987 654 321",
    "text": "Tôi ra bưu điện nhưng không rút được tiền vì không nhận được mã OTP.",
}


def online(tree, client="203.0.113.7", **kw):
    return services.lodge_online(client=client, commune_id=tree.a.pk, **(ONLINE | kw))


# --- lodging -------------------------------------------------------------------------------------


def test_an_online_complaint_gets_a_reference_a_route_and_a_due_date(tree):
    c = online(tree)
    year = timezone.localdate().year
    assert c.reference == f"PA-{year}-{c.pk:06d}"
    assert (c.channel, c.state, c.routed_to) == (Channel.ONLINE, State.LODGED, RoutedTo.PROVIDER)
    assert c.phone == "+84987654321" and c.commune == tree.a and c.area_path == tree.a.path
    assert c.due_on == due_date(c.received_on, Kind.FEEDBACK)
    assert c.client_key and "203.0.113.7" not in c.client_key
    event = AuditEvent.objects.get(action="complaints.complaint.lodged")
    assert event.actor is None and event.object_id == str(c.pk) and event.area_path == tree.a.path
    second = online(tree, kind=Kind.COMPLAINT, client="203.0.113.8")
    assert second.reference == f"KN-{year}-{second.pk:06d}"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"text": "   "}, "text"),
        ({"text": "ngắn"}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "Mua thuốc rẻ tại http://spam.example và www.spam.example"}, "text"),
        ({"text": "a" * 40}, "text"),
        ({"name": ""}, "name"),
        ({"name": "N" * 101}, "name"),
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"cccd": "12345"}, "cccd"),
        ({"topic": "bogus"}, "topic"),
        ({"kind": "bogus"}, "kind"),
        ({"website": "http://robot.example"}, "text"),
    ],
)
def test_online_refuses_empty_long_and_spam(tree, changes, field):
    with pytest.raises(ValidationError) as caught:
        online(tree, **changes)
    assert field in caught.value.message_dict
    assert not Complaint.objects.exists()


def test_online_needs_a_commune_of_todays_tree(tree):
    from ansinh.areas.models import Area, Level, Tree

    old = Area.objects.create(
        tree=Tree.LEGACY, level=Level.COMMUNE, name="Xã Cũ", parent=tree.district, valid_to=date(2025, 6, 30)
    )
    for commune_id in (old.pk, tree.district.pk, None, 10**9):
        with pytest.raises(ValidationError) as caught:
            services.lodge_online(client="x", commune_id=commune_id, **ONLINE)
        assert "commune" in caught.value.message_dict


def test_online_lodging_is_rate_limited_per_client(tree):
    for _ in range(services.ONLINE_PER_HOUR):
        online(tree, client="198.51.100.1")
    with pytest.raises(services.RateLimited):
        online(tree, client="198.51.100.1")
    online(tree, client="198.51.100.2")  # another client is not held up
    assert Complaint.objects.count() == services.ONLINE_PER_HOUR + 1


def test_the_daily_limit_holds_when_the_hours_pass(tree):
    for i in range(services.ONLINE_PER_DAY):
        c = online(tree, client="198.51.100.9")
        Complaint.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(hours=2 + i))
    with pytest.raises(services.RateLimited):
        online(tree, client="198.51.100.9")


def test_staff_lodge_by_phone_and_the_cccd_links_the_beneficiary(tree, officer_a, paid):
    c = lodge(officer_a, tree.a, channel=Channel.COUNTER, cccd=CCCD_A, kind=Kind.COMPLAINT)
    assert c.channel == Channel.COUNTER and c.lodged_by == officer_a
    assert c.beneficiary == paid[0].beneficiary
    assert c.reference.startswith("KN-")
    # a CCCD of someone in another commune links nobody
    other = lodge(officer_a, tree.a, cccd=paid[1].beneficiary.cccd)
    assert other.beneficiary is None


def test_staff_lodging_needs_complaints_handle_on_the_commune(tree, officer_a, viewer_a, officer_b):
    with pytest.raises(services.ComplaintForbidden):
        lodge(viewer_a, tree.a)
    with pytest.raises(services.ComplaintForbidden):
        lodge(officer_b, tree.a)
    with pytest.raises(services.ComplaintForbidden):
        lodge(officer_a, tree.village_a)  # a village is not a commune
    with pytest.raises(ValidationError):
        lodge(officer_a, tree.a, channel=Channel.ONLINE)
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("topic", Topic.values)
def test_routing_follows_the_topic(tree, officer_a, topic):
    c = lodge(officer_a, tree.a, topic=topic)
    expected = RoutedTo.PROVIDER if topic in ("cannot_withdraw", "pay_point", "staff_conduct") else RoutedTo.COMMUNE
    assert c.routed_to == expected == ROUTE_BY_TOPIC[topic]
    assert lodge(officer_a, tree.a, topic=topic, routed_to=RoutedTo.COMMUNE).routed_to == RoutedTo.COMMUNE


# --- due dates ----------------------------------------------------------------------------------------


def test_due_date_skips_national_day():
    # Friday 28 August 2026: the weekend, then 31 August (swapped day off), 1 and 2 September
    assert due_date(date(2026, 8, 28), Kind.FEEDBACK) == date(2026, 9, 16)
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


def test_due_date_skips_tet():
    # Friday 13 February 2026: Tết 16–20 February between two weekends
    assert due_date(date(2026, 2, 13), Kind.FEEDBACK) == date(2026, 3, 6)
    assert due_date(date(2026, 2, 13), Kind.COMPLAINT) == date(2026, 4, 3)


def test_due_days_are_configurable(settings):
    settings.ANSINH_COMPLAINT_DAYS_FEEDBACK = 3
    assert due_date(date(2026, 12, 2), Kind.FEEDBACK) == date(2026, 12, 7)


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)), n=st.integers(1, 40))
def test_a_due_date_is_a_working_day_with_n_working_days_after_the_receipt(day, n):
    due = add_working_days(day, n)
    assert is_working_day(due)
    between = [day + timedelta(days=i) for i in range(1, (due - day).days + 1)]
    assert sum(is_working_day(d) for d in between) == n


# --- transitions ----------------------------------------------------------------------------------


def test_assign_puts_it_in_progress_then_resolve_closes_it_and_tells_the_person(tree, officer_a, provider_a):
    c = online(tree)  # routed to the provider: A's provider staff may take it
    c = services.assign(actor=officer_a, complaint=c, assignee=provider_a)
    assert (c.state, c.assignee) == (State.IN_PROGRESS, provider_a)
    c = services.resolve(actor=provider_a, complaint=c, resolution="Đã cấp lại mã OTP, ông đã rút được tiền.")
    c.refresh_from_db()
    assert c.state == State.RESOLVED and c.closed_by == provider_a and c.closed_at is not None
    sms = Message.objects.get(idempotency_key=f"complaint-{c.pk}-closed")
    assert sms.phone == "+84987654321" and c.reference in sms.text
    actions = list(
        AuditEvent.objects.filter(object_id=str(c.pk), object_type="complaints.complaint")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["complaints.complaint.lodged", "complaints.complaint.assigned", "complaints.complaint.resolved"]


def test_refused_transitions(tree, officer_a):
    c = lodge(officer_a, tree.a, phone="")
    with pytest.raises(ValidationError):
        services.resolve(actor=officer_a, complaint=c, resolution="  ")
    with pytest.raises(ValidationError):
        services.reject(actor=officer_a, complaint=c, resolution="")
    c = services.reject(actor=officer_a, complaint=c, resolution="Không thuộc thẩm quyền.")
    assert c.state == State.REJECTED
    assert not Message.objects.exists()  # no phone given: no SMS
    for close in (services.resolve, services.reject):
        with pytest.raises(InvalidTransition):
            close(actor=officer_a, complaint=c, resolution="Lần nữa")
    with pytest.raises(InvalidTransition):
        services.withdraw(actor=officer_a, complaint=c)
    with pytest.raises(services.DomainError):
        services.assign(actor=officer_a, complaint=c, routed_to=RoutedTo.PROVIDER)
    c.refresh_from_db()
    assert c.state == State.REJECTED


def test_withdrawn_from_lodged_or_in_progress(tree, officer_a):
    c = services.withdraw(actor=officer_a, complaint=lodge(officer_a, tree.a), note="Đã nhận được tiền.")
    assert c.state == State.WITHDRAWN and not Message.objects.exists()


def test_only_handlers_act(tree, officer_a, viewer_a, officer_b, provider_a):
    to_commune = lodge(officer_a, tree.a, topic=Topic.WRONG_AMOUNT)
    for actor in (viewer_a, officer_b, provider_a):
        with pytest.raises(services.ComplaintForbidden):
            services.resolve(actor=actor, complaint=to_commune, resolution="Không")
    with pytest.raises(ValidationError):  # the provider cannot be given a complaint routed to the commune
        services.assign(actor=officer_a, complaint=to_commune, assignee=provider_a)
    to_commune.refresh_from_db()
    assert to_commune.state == State.LODGED and to_commune.assignee is None


# --- links -------------------------------------------------------------------------------------------


def test_links_only_records_of_the_complaints_commune(tree, officer_a, paid):
    a, b = paid
    c = lodge(officer_a, tree.a, cccd=CCCD_A)
    with pytest.raises(ValidationError):
        services.link_records(actor=officer_a, complaint=c, lines=[b.line])
    with pytest.raises(ValidationError):
        services.link_records(actor=officer_a, complaint=c, exceptions=[b.exception])
    assert not c.lines.exists() and not c.exceptions.exists()
    services.link_records(actor=officer_a, complaint=c, lines=[a.line], exceptions=[a.exception])
    assert list(c.lines.all()) == [a.line] and list(c.exceptions.all()) == [a.exception]
    event = AuditEvent.objects.get(action="complaints.complaint.linked")
    assert event.after["lines"] == [a.line.pk]


def test_identify_needs_a_person_of_the_commune(tree, officer_a, paid):
    c = lodge(officer_a, tree.a)
    with pytest.raises(ValidationError):
        services.identify(actor=officer_a, complaint=c, beneficiary=paid[1].beneficiary)
    services.identify(actor=officer_a, complaint=c, beneficiary=paid[0].beneficiary)
    c.refresh_from_db()
    assert c.beneficiary == paid[0].beneficiary


# --- the public status check --------------------------------------------------------------------------


def test_status_needs_the_reference_and_the_phones_last_digits(tree):
    c = online(tree)
    assert services.check_status(client="x", reference=c.reference.lower(), phone_last4="4321") == c
    assert services.check_status(client="x", reference=c.reference, phone_last4="0000") is None
    assert services.check_status(client="x", reference="KN-2000-000001", phone_last4="4321") is None


def test_status_checks_are_rate_limited_per_reference_and_per_client(tree):
    c = online(tree)
    for i in range(services.FAILED_CHECKS_PER_REFERENCE_DAY):
        services.check_status(client=f"10.0.0.{i}", reference=c.reference, phone_last4=f"{i:04d}")
    with pytest.raises(services.RateLimited):  # even with the right digits, from anyone
        services.check_status(client="10.0.1.1", reference=c.reference, phone_last4="4321")
    for i in range(services.FAILED_CHECKS_PER_CLIENT_HOUR):
        services.check_status(client="10.9.9.9", reference=f"KN-2026-{i:06d}", phone_last4="1111")
    with pytest.raises(services.RateLimited):
        services.check_status(client="10.9.9.9", reference="KN-2026-999999", phone_last4="1111")


def test_the_history_reads_as_vietnamese_sentences(tree, officer_a, paid):
    from django.utils import translation

    from ansinh.audit.services import history
    from ansinh.web import audit_text

    c = online(tree, cccd=CCCD_A)
    services.identify(actor=officer_a, complaint=c, beneficiary=paid[0].beneficiary)
    services.link_records(actor=officer_a, complaint=c, lines=[paid[0].line])
    services.assign(actor=officer_a, complaint=c, routed_to=RoutedTo.COMMUNE, assignee=officer_a)
    services.resolve(actor=officer_a, complaint=c, resolution="Đã chi bù.")
    with translation.override("vi"):
        entries = audit_text.render(history(c).order_by("id").select_related("actor"), officer_a)
        texts = [e.text for e in entries]
    assert len(texts) == 5
    assert texts[0].startswith("Lê Văn Hỏi đã gửi phản ánh " + c.reference)
    assert "giao đơn" in texts[3] and "đã giải quyết xong đơn" in texts[4]
    for text in texts:
        assert c.reference in text and "complaint" not in text and "%(" not in text
