"""The village head's list (notifications Channel.VILLAGE): notices for people who cannot read an
SMS in Vietnamese or have no phone wait on the list of their village, are never sent, are read by
the village head of that village (the commune officer: the commune's), printed, and marked
delivered with "Đã thông báo" (audited). Another commune sees nothing of them."""

from datetime import date

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from ansinh.accounts.roles import Role
from ansinh.areas.models import Area, Level, Tree
from ansinh.audit.models import AuditEvent
from ansinh.core.text import search_key
from ansinh.notifications import services
from ansinh.notifications.models import Channel, Message, MessageStatus
from ansinh.registry.models import Beneficiary
from ansinh.web import audit_text
from tests.conftest import make_user

from .conftest import MOBILE

pytestmark = pytest.mark.django_db

LIST = "notifications:village_list"
PRINT = "notifications:village_print"
DELIVERED = "notifications:village_delivered"


def village(parent, name):
    return Area.objects.create(tree=Tree.LEGACY, level=Level.VILLAGE, name=name, division_type="", parent=parent)


def person(name, commune, where):
    return Beneficiary.objects.create(
        full_name=name,
        name_key=search_key(name),
        birth_date=date(1945, 3, 2),
        gender="female",
        commune=commune,
        village=where if where.level == Level.VILLAGE else None,
        area_path=where.path,
        start_month=date(2025, 1, 1),
        cannot_read_vietnamese=True,
    )


def notice(b, key, channel=Channel.VILLAGE, **extra):
    variables = {"name": b.full_name, "month": "10/2026", "amount": "500.000", "hotline": "0296 3861 234"}
    return services.queue(
        actor=None,
        key="payment.failed",
        variables=variables,
        idempotency_key=key,
        beneficiary=b,
        area=b.village or b.commune,
        channel=channel,
        **extra,
    )


@pytest.fixture
def places(tree):
    return {
        "a1": tree.village_a,
        "a2": village(tree.a, "Ấp Hòa Long 4"),
        "b1": village(tree.b, "Khóm Vĩnh Tây"),
    }


@pytest.fixture
def notices(tree, places):
    people = {
        "a1": person("Thạch Thị Sa Rây", tree.a, places["a1"]),
        "a2": person("Néang Sóc Kha", tree.a, places["a2"]),
        "a": person("Chau Sóc Khon", tree.a, tree.a),  # village unknown: the commune's list
        "b1": person("Lâm Thị Sóc Phi", tree.b, places["b1"]),
    }
    with transaction.atomic():
        out = {k: notice(b, f"n-{k}") for k, b in people.items()}
        out["sms"] = notice(people["a1"], "n-sms", channel=Channel.SMS, phone=MOBILE)
    return out


@pytest.fixture
def heads(places):
    return {
        "a1": make_user("head_a1", Role.VILLAGE_HEAD, places["a1"]),
        "a2": make_user("head_a2", Role.VILLAGE_HEAD, places["a2"]),
    }


def test_a_village_notice_waits_on_the_list_and_is_never_sent(tree, django_capture_on_commit_callbacks):
    b = person("Thạch Thị Sa Rây", tree.a, tree.village_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        msg = notice(b, "v1")
    assert callbacks == []  # nothing handed to the SMS worker
    assert msg.channel == Channel.VILLAGE and msg.status == MessageStatus.QUEUED
    assert msg.area == tree.village_a and msg.area_path == tree.village_a.path
    assert msg.text.startswith("Trợ cấp tháng 10/2026 của Thạch Thị Sa Rây")  # diacritics kept, no brand
    assert (msg.encoding, msg.segments) == ("", 0)
    assert services.send_due().sent == 0
    msg.refresh_from_db()
    assert msg.status == MessageStatus.QUEUED and msg.attempts == 0 and msg.gateway == ""
    assert services.poll_delivery()["delivered"] == 0


def test_a_village_notice_needs_an_area():
    with pytest.raises(services.NotificationError, match="village"), transaction.atomic():
        services.queue(
            actor=None,
            key="payment.failed",
            variables={"name": "A", "month": "10/2026", "amount": "1", "hotline": "1"},
            idempotency_key="x",
            channel=Channel.VILLAGE,
        )
    with pytest.raises(services.NotificationError, match="channel"), transaction.atomic():
        services.queue(
            actor=None,
            key="payment.failed",
            variables={"name": "A", "month": "10/2026", "amount": "1", "hotline": "1"},
            idempotency_key="y",
            channel="fax",
        )


def test_each_reader_sees_the_notices_of_their_villages(notices, heads, personas):
    def keys(user):
        return {k for k, m in notices.items() if m in set(services.village_notices(user))}

    assert keys(heads["a1"]) == {"a1"}
    assert keys(heads["a2"]) == {"a2"}
    assert keys(personas["officer_a"]) == {"a1", "a2", "a"}
    assert keys(personas["officer_b"]) == {"b1"}
    assert keys(personas["viewer_a"]) == set()  # a province monitor: no village list


def test_the_village_head_reads_only_their_village(notices, heads, client_for):
    page = client_for(heads["a1"]).get(reverse(LIST))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Thạch Thị Sa Rây" in text and notices["a1"].text in text
    for other in ("Néang Sóc Kha", "Chau Sóc Khon", "Lâm Thị Sóc Phi"):
        assert other not in text
    assert "Đã thông báo" in text and "Danh sách báo tin qua trưởng thôn" in text
    assert f'value="{notices["sms"].pk}"' not in text  # an SMS is not on the list


def test_the_commune_officer_reads_the_communes_villages_and_filters_by_one(notices, places, client_for, officer_a):
    client = client_for(officer_a)
    text = client.get(reverse(LIST)).content.decode()
    for name in ("Thạch Thị Sa Rây", "Néang Sóc Kha", "Chau Sóc Khon"):
        assert name in text
    assert "Lâm Thị Sóc Phi" not in text
    one = client.get(reverse(LIST), {"area": places["a2"].pk}).content.decode()
    assert "Néang Sóc Kha" in one and "Thạch Thị Sa Rây" not in one


def test_another_commune_sees_nothing_of_the_list(notices, places, client_for, officer_b, viewer_a):
    client = client_for(officer_b)
    text = client.get(reverse(LIST)).content.decode()
    assert "Lâm Thị Sóc Phi" in text and "Thạch Thị Sa Rây" not in text
    assert client.get(reverse(LIST), {"area": places["a1"].pk}).status_code == 404
    assert client.get(reverse(PRINT), {"area": places["a1"].pk}).status_code == 404
    # posting A's notices changes nothing
    answer = client.post(reverse(DELIVERED), {"message": [notices["a1"].pk, notices["a"].pk]})
    assert answer.status_code == 302
    assert set(Message.objects.filter(channel=Channel.VILLAGE).values_list("status", flat=True)) == {"queued"}
    assert not AuditEvent.objects.filter(action="notifications.village.delivered").exists()
    # a reader without the list: refused
    monitor = client_for(viewer_a)
    assert monitor.get(reverse(LIST)).status_code == 403
    assert monitor.post(reverse(DELIVERED), {"message": [notices["a1"].pk]}).status_code == 403


def test_marking_told_delivers_the_ticked_notices_and_is_audited(notices, heads, client_for):
    head = heads["a1"]
    client = client_for(head)
    ids = [notices["a1"].pk, notices["a2"].pk, notices["sms"].pk, 10**9]
    answer = client.post(reverse(DELIVERED), {"message": [str(i) for i in ids]})
    assert answer.status_code == 302 and answer.url == reverse(LIST)
    delivered = Message.objects.get(pk=notices["a1"].pk)
    assert delivered.status == MessageStatus.DELIVERED and delivered.delivered_at is not None
    assert Message.objects.get(pk=notices["a2"].pk).status == MessageStatus.QUEUED  # another village's
    assert Message.objects.get(pk=notices["sms"].pk).status == MessageStatus.QUEUED  # an SMS: not on the list
    event = AuditEvent.objects.get(action="notifications.village.delivered")
    assert (event.actor, event.object_id, event.area_id) == (head, str(delivered.pk), delivered.area_id)
    assert event.after["status"] == "delivered"
    # no longer on the list; marking again changes nothing
    assert "Thạch Thị Sa Rây" not in client.get(reverse(LIST)).content.decode()
    assert services.mark_village_delivered(actor=head, message_ids=[delivered.pk]) == 0
    assert AuditEvent.objects.filter(action="notifications.village.delivered").count() == 1
    # the sentence in the audit log
    with translation.override("vi"):
        (entry,) = audit_text.render([event], head)
    assert "đã báo tin cho người nhận" in entry.text and "Khóm Châu Long 1" in entry.text


def test_the_list_is_printed_in_the_house_style_and_audited(notices, places, heads, client_for, officer_a):
    answer = client_for(heads["a1"]).get(reverse(PRINT), {"sign": "1"})
    assert answer.status_code == 200 and answer["Cache-Control"] == "private, no-store"
    text = b"".join(answer.streaming_content).decode()
    assert "DANH SÁCH THÔNG BÁO CHI TRẢ CẦN BÁO CHO NGƯỜI NHẬN" in text
    assert "UBND PHƯỜNG CHÂU PHÚ A" in text and "Ký nhận" in text
    assert notices["a1"].text in text and "Néang Sóc Kha" not in text
    event = AuditEvent.objects.get(action="notifications.village.printed")
    assert event.actor == heads["a1"] and event.after["rows"] == 1
    # the commune officer prints one village of the commune
    one = client_for(officer_a).get(reverse(PRINT), {"area": places["a2"].pk})
    text = b"".join(one.streaming_content).decode()
    assert "Néang Sóc Kha" in text and "Thạch Thị Sa Rây" not in text and "Ấp Hòa Long 4" in text


def test_marking_many_takes_a_few_queries(tree, officer_a, django_assert_max_num_queries):
    b = person("Thạch Thị Sa Rây", tree.a, tree.village_a)
    with transaction.atomic():
        ids = [notice(b, f"m{i}").pk for i in range(30)]
    with django_assert_max_num_queries(10):
        assert services.mark_village_delivered(actor=officer_a, message_ids=ids) == 30
    assert AuditEvent.objects.filter(action="notifications.village.delivered").count() == 30
