import datetime as dt
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction

from ansinh.audit.models import AuditEvent
from ansinh.notifications import gateways, services
from ansinh.notifications.models import Message, MessageStatus

from .conftest import LANDLINE, MOBILE, VARS

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def queue(tree, key="k1", phone=MOBILE, **extra):
    return services.queue(
        actor=None,
        key="account.changed",
        variables=VARS,
        idempotency_key=key,
        area=tree.village_a,
        phone=phone,
        **extra,
    )


def test_queued_text_is_rendered_stored_and_audited(tree):
    with transaction.atomic():
        msg = queue(tree)
    assert msg.status == MessageStatus.QUEUED
    assert msg.text.startswith("ANSINH: Tai khoan nhan tro cap cua Nguyen Thi Anh")
    assert (msg.encoding, msg.segments) == ("gsm7", 1)
    assert msg.area_path == tree.village_a.path
    assert msg.variables == VARS
    assert AuditEvent.objects.filter(action="notifications.queued", object_id=str(msg.pk)).exists()


def test_the_same_idempotency_key_never_queues_twice(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = queue(tree)
    with django_capture_on_commit_callbacks(execute=True) as again:
        second = queue(tree)
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(callbacks) == 1 and len(again) == 0
    first.refresh_from_db()
    assert first.attempts == 1 and first.status == MessageStatus.SENT


def test_sent_after_the_commit_through_the_sandbox(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        msg = queue(tree)
        assert Message.objects.get(pk=msg.pk).status == MessageStatus.QUEUED
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the task (immediate backend in tests) sends it
    msg.refresh_from_db()
    assert msg.status == MessageStatus.SENT
    assert msg.gateway == "sandbox" and msg.provider_message_id == f"sandbox-{msg.pk}"
    assert services.poll_delivery() == {"delivered": 1, "failed": 0, "pending": 0, "errors": 0}
    msg.refresh_from_db()
    assert msg.status == MessageStatus.DELIVERED and msg.delivered_at is not None


def test_nothing_is_queued_or_sent_when_the_transaction_rolls_back(tree, django_capture_on_commit_callbacks):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        queue(tree)
        raise Boom
    assert callbacks == []
    assert not Message.objects.exists()


def test_a_landline_never_gets_an_sms(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        msg = queue(tree, phone=LANDLINE)
        none = queue(tree, key="k2", phone="")
    assert callbacks == []
    assert msg.status == MessageStatus.FAILED and "landline" in msg.last_error
    assert none.status == MessageStatus.FAILED and none.last_error == "no phone number"
    assert services.send_due().sent == 0
    msg.refresh_from_db()
    assert msg.attempts == 0


class Flaky:
    name = "flaky"

    def __init__(self, failures, retry=True):
        self.failures, self.retry, self.calls = failures, retry, 0

    def send(self, *, phone, text, reference):
        self.calls += 1
        if self.calls <= self.failures:
            raise gateways.GatewayError("HTTP 503 from the SMS gateway", retry=self.retry)
        return f"ok-{reference}"

    def status(self, provider_id):
        return gateways.Delivery("delivered")


@pytest.fixture
def flaky(monkeypatch):
    def install(failures, retry=True):
        gw = Flaky(failures, retry)
        monkeypatch.setitem(gateways.GATEWAYS, "flaky", lambda: gw)
        return gw

    return install


def test_retries_back_off_exponentially_then_fail(tree, settings, flaky):
    settings.ANSINH_SMS_GATEWAY = "flaky"
    gw = flaky(failures=10)
    with transaction.atomic():
        msg = queue(tree)
    now = dt.datetime(2026, 10, 5, 9, 0, tzinfo=HCM)
    assert services.send_due(now=now).retrying == 1
    msg.refresh_from_db()
    assert msg.status == MessageStatus.QUEUED and msg.attempts == 1
    assert msg.next_attempt_at == now + dt.timedelta(seconds=60)
    assert "503" in msg.last_error
    # not due before its time
    assert services.send_due(now=now + dt.timedelta(seconds=59)).retrying == 0
    assert gw.calls == 1
    services.send_due(now=now + dt.timedelta(seconds=60))
    msg.refresh_from_db()
    assert msg.attempts == 2 and msg.next_attempt_at == now + dt.timedelta(seconds=60 + 120)
    summary = services.send_due(now=now + dt.timedelta(seconds=180))
    msg.refresh_from_db()
    assert summary.failed == 1 and msg.status == MessageStatus.FAILED and msg.attempts == 3


def test_a_retry_succeeds_and_a_permanent_error_fails_at_once(tree, settings, flaky):
    settings.ANSINH_SMS_GATEWAY = "flaky"
    flaky(failures=1)
    with transaction.atomic():
        msg = queue(tree)
    now = dt.datetime(2026, 10, 5, 9, 0, tzinfo=HCM)
    services.send_due(now=now)
    services.send_due(now=now + dt.timedelta(minutes=1))
    msg.refresh_from_db()
    assert msg.status == MessageStatus.SENT and msg.attempts == 2 and msg.last_error == ""

    flaky(failures=1, retry=False)
    with transaction.atomic():
        other = queue(tree, key="k2")
    services.send_due(now=now)
    other.refresh_from_db()
    assert other.status == MessageStatus.FAILED and other.attempts == 1


def test_backoff_is_capped():
    assert services.backoff(1) == dt.timedelta(seconds=60)
    assert services.backoff(3) == dt.timedelta(seconds=240)
    assert services.backoff(20) == dt.timedelta(seconds=3600)


def test_nothing_is_sent_outside_the_daily_window(tree, settings, flaky):
    settings.ANSINH_SMS_WINDOW = ("07:00", "21:00")
    with transaction.atomic():
        msg = queue(tree)
    late = dt.datetime(2026, 10, 5, 21, 30, tzinfo=HCM)
    summary = services.send_due(now=late)
    assert summary.outside_window and summary.sent == 0
    msg.refresh_from_db()
    assert msg.status == MessageStatus.QUEUED and msg.attempts == 0
    assert services.next_window_start(late) == dt.datetime(2026, 10, 6, 7, 0, tzinfo=HCM)
    early = dt.datetime(2026, 10, 6, 6, 59, tzinfo=HCM)
    assert services.next_window_start(early) == dt.datetime(2026, 10, 6, 7, 0, tzinfo=HCM)
    assert services.send_due(now=dt.datetime(2026, 10, 6, 7, 0, tzinfo=HCM)).sent == 1
    # a retry that would fall after closing waits for the next opening
    settings.ANSINH_SMS_GATEWAY = "flaky"
    flaky(failures=5)
    with transaction.atomic():
        other = queue(tree, key="k2")
    services.send_due(now=dt.datetime(2026, 10, 6, 20, 59, 30, tzinfo=HCM))
    other.refresh_from_db()
    assert other.next_attempt_at == dt.datetime(2026, 10, 7, 7, 0, tzinfo=HCM)


def test_a_window_over_midnight():
    from django.test import override_settings

    with override_settings(ANSINH_SMS_WINDOW=("22:00", "06:00")):
        assert services.in_window(dt.datetime(2026, 10, 5, 23, 0, tzinfo=HCM))
        assert services.in_window(dt.datetime(2026, 10, 5, 5, 0, tzinfo=HCM))
        assert not services.in_window(dt.datetime(2026, 10, 5, 12, 0, tzinfo=HCM))


def test_the_commands_are_idempotent_and_print_json(tree):
    with transaction.atomic():
        queue(tree)
        queue(tree, key="k2")
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert json.loads(out.getvalue()) == {"sent": 2, "retrying": 0, "failed": 0, "outside_window": False}
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert json.loads(out.getvalue())["sent"] == 0
    out = StringIO()
    call_command("poll_delivery", stdout=out)
    assert json.loads(out.getvalue())["delivered"] == 2
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.DELIVERED}


def test_an_oversized_text_is_refused_at_queue_time(tree, settings):
    settings.ANSINH_SMS_MAX_SEGMENTS = 1
    long_vars = {**VARS, "institution": "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam chi nhánh"}
    with pytest.raises(services.NotificationError, match="segments"), transaction.atomic():
        services.queue(
            actor=None,
            key="account.changed",
            variables=long_vars,
            idempotency_key="long",
            area=tree.a,
            phone=MOBILE,
        )
    assert not Message.objects.exists()


def test_the_person_gives_phone_and_area(tree):
    from ansinh.registry.models import Representative

    rep = Representative.objects.create(
        full_name="Tạ Văn Đại Diện", phone=MOBILE, commune=tree.a, area_path=tree.a.path
    )
    with transaction.atomic():
        msg = services.queue(
            actor=None, key="account.changed", variables=VARS, idempotency_key="rep", representative=rep
        )
    assert msg.phone == MOBILE and msg.area == tree.a and msg.representative == rep


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_worker_is_skipped(tree, monkeypatch):
    """Two workers never send the same row: a row another transaction holds is skipped (SKIP
    LOCKED, PostgreSQL), and sent by the next run once free."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    monkeypatch.setattr(services, "_hand_to_worker", lambda message_id: None)  # the workers below send
    with transaction.atomic():
        locked = queue(tree)
        free = queue(tree, key="k2")
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Message.objects.select_for_update().get(pk=locked.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert holding.wait(10)
    try:
        summary = services.send_due()
    finally:
        release.set()
        thread.join(10)
    assert summary.sent == 1
    assert Message.objects.get(pk=free.pk).status == MessageStatus.SENT
    assert Message.objects.get(pk=locked.pk).status == MessageStatus.QUEUED
    assert services.send_due().sent == 1


def test_an_in_app_message_is_kept_and_never_sent(tree, django_capture_on_commit_callbacks, officer_a):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        msg = services.queue(
            actor=None,
            key="account.opened",
            variables={k: VARS[k] for k in ("name", "institution", "account", "hotline")},
            idempotency_key="in-app",
            area=tree.a,
            user=officer_a,
            channel="in_app",
        )
    assert callbacks == []
    assert msg.status == MessageStatus.DELIVERED and msg.phone == "" and msg.segments == 0
    assert "đã mở tài khoản" in msg.text  # kept with its diacritics: no SMS alphabet to fit
    assert services.send_due().sent == 0


def test_a_concurrent_queue_of_the_same_key_returns_the_winner(tree, monkeypatch):
    with transaction.atomic():
        first = queue(tree)
    # the look-up misses (the other transaction had not committed yet): the insert collides
    real_filter = Message.objects.filter
    monkeypatch.setattr(Message.objects, "filter", lambda *a, **k: real_filter(pk__in=[]))
    with transaction.atomic():
        again = queue(tree)
    assert again.pk == first.pk and Message.objects.count() == 1
