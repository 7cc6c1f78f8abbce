"""Queueing many messages at once (`services.queue_many`): the rules of `queue` (templates,
variables, GSM-7 fitting, idempotency, audit, sending after the commit) with a bounded number
of queries, whatever the number of messages."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ansinh.audit.models import AuditEvent
from ansinh.notifications import services
from ansinh.notifications.models import Message, MessageStatus

from .conftest import LANDLINE, MOBILE, VARS

pytestmark = pytest.mark.django_db


def outgoing(tree, n: int, prefix: str = "m", **extra):
    return [
        services.Outgoing(
            key="account.changed",
            variables=VARS,
            idempotency_key=f"{prefix}{i}",
            area=tree.village_a,
            phone=MOBILE,
            **extra,
        )
        for i in range(n)
    ]


def _queries(tree, n: int, prefix: str) -> int:
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        services.queue_many(actor=None, messages=outgoing(tree, n, prefix))
    return len(ctx.captured_queries)


def test_queueing_many_messages_takes_a_bounded_number_of_queries(tree):
    few, many = _queries(tree, 3, "a"), _queries(tree, 40, "b")
    assert many == few <= 12
    assert Message.objects.count() == 43
    assert AuditEvent.objects.filter(action="notifications.queued").count() == 43


def test_queue_many_follows_the_rules_of_queue(tree, settings, django_capture_on_commit_callbacks):
    settings.ANSINH_SMS_MAX_SEGMENTS = 1
    with transaction.atomic():
        services.queue(actor=None, key="account.changed", variables=VARS, idempotency_key="old", phone=MOBILE)
    long_vars = {**VARS, "institution": "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam chi nhánh"}
    specs = [
        *outgoing(tree, 2),
        services.Outgoing(key="account.changed", variables=VARS, idempotency_key="old", phone=MOBILE),
        services.Outgoing(key="account.changed", variables=long_vars, idempotency_key="long", phone=MOBILE),
        services.Outgoing(key="account.changed", variables=VARS, idempotency_key="fixed", phone=LANDLINE),
        services.Outgoing(key="account.changed", variables=VARS, idempotency_key="m0", phone=MOBILE),  # twice
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        out = services.queue_many(actor=None, messages=specs)
    m0, m1, old, long, fixed, again = out
    assert m0.status == m1.status == MessageStatus.QUEUED and m0.text.startswith("ANSINH: Tai khoan")
    assert (m0.encoding, m0.segments) == ("gsm7", 1) and m0.area_path == tree.village_a.path
    assert old == Message.objects.get(idempotency_key="old") and again.pk == m0.pk
    assert isinstance(long, services.NotificationError)
    assert fixed.status == MessageStatus.FAILED and "landline" in fixed.last_error
    assert Message.objects.count() == 4  # old, m0, m1, fixed
    assert len(callbacks) == 1  # one hand-over to the worker for the batch


def test_nothing_is_queued_when_the_transaction_rolls_back(tree):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.queue_many(actor=None, messages=outgoing(tree, 5))
        raise RuntimeError
    assert not Message.objects.exists()
