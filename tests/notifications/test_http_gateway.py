"""The HTTP gateway client against a fake gateway on 127.0.0.1 (docs/sms-gateway.md)."""

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from ansinh.notifications import services
from ansinh.notifications.gateways import GatewayError, HttpGateway
from ansinh.notifications.models import MessageStatus

from .conftest import MOBILE, VARS

KEY = "test-key-123"


class FakeGateway:
    def __init__(self):
        self.mode = "ok"  # ok | error500 | slow | bad400 | nojson
        self.received: list[dict] = []
        self.statuses: dict[str, str] = {}


def _handler(fake: FakeGateway):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, code: int, body) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):
            if self.headers.get("X-API-Key") != KEY:
                return self._answer(401, {"error": "bad key"})
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if fake.mode == "slow":
                time.sleep(1.0)
            if fake.mode == "error500":
                return self._answer(503, {"error": "busy"})
            if fake.mode == "bad400":
                return self._answer(400, {"error": "bad number"})
            if fake.mode == "nojson":
                return self._answer(200, b"<html>")
            fake.received.append(body)
            msg_id = f"gw-{len(fake.received)}"
            fake.statuses[msg_id] = "sent"
            return self._answer(201, {"id": msg_id})

        def do_GET(self):
            if self.headers.get("X-API-Key") != KEY:
                return self._answer(401, {"error": "bad key"})
            msg_id = self.path.rsplit("/", 1)[-1]
            if msg_id not in fake.statuses:
                return self._answer(404, {"error": "unknown"})
            status = fake.statuses[msg_id]
            return self._answer(200, {"id": msg_id, "status": status, "error": "absent" if status == "failed" else ""})

    return Handler


@pytest.fixture
def fake_gateway(settings):
    fake = FakeGateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ANSINH_SMS_GATEWAY = "http"
    settings.ANSINH_SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/"
    settings.ANSINH_SMS_HTTP_KEY = KEY
    settings.ANSINH_SMS_HTTP_TIMEOUT = 0.3
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _client(settings, **extra):
    return HttpGateway(
        url=extra.get("url", settings.ANSINH_SMS_HTTP_URL),
        api_key=extra.get("key", settings.ANSINH_SMS_HTTP_KEY),
        timeout=settings.ANSINH_SMS_HTTP_TIMEOUT,
    )


def test_client_sends_and_polls(fake_gateway, settings):
    client = _client(settings)
    assert client.send(phone=MOBILE, text="xin chao", reference="7") == "gw-1"
    assert fake_gateway.received == [{"to": MOBILE, "text": "xin chao", "reference": "7"}]
    assert client.status("gw-1").status == "sent"
    fake_gateway.statuses["gw-1"] = "delivered"
    assert client.status("gw-1").status == "delivered"
    fake_gateway.statuses["gw-1"] = "failed"
    assert client.status("gw-1") == client.status("gw-1").__class__("failed", "absent")


@pytest.mark.parametrize(
    ("mode", "retry", "words"),
    [("error500", True, "503"), ("slow", True, "unreachable"), ("bad400", False, "400"), ("nojson", False, "JSON")],
)
def test_client_errors_say_whether_to_retry(fake_gateway, settings, mode, retry, words):
    fake_gateway.mode = mode
    with pytest.raises(GatewayError, match=words) as exc:
        _client(settings).send(phone=MOBILE, text="x", reference="1")
    assert exc.value.retry is retry


def test_a_wrong_key_is_a_permanent_error(fake_gateway, settings):
    with pytest.raises(GatewayError) as exc:
        _client(settings, key="wrong").send(phone=MOBILE, text="x", reference="1")
    assert exc.value.retry is False


def test_only_https_except_on_the_loopback():
    with pytest.raises(ValueError, match="https"):
        HttpGateway(url="http://sms.example.vn", api_key="k", timeout=1)
    HttpGateway(url="https://sms.example.vn", api_key="k", timeout=1)


@pytest.mark.django_db
def test_outbox_through_the_http_gateway_with_retry_and_delivery(fake_gateway, tree):
    with transaction.atomic():
        msg = services.queue(
            actor=None,
            key="account.changed",
            variables=VARS,
            idempotency_key="http-1",
            area=tree.a,
            phone=MOBILE,
        )
    now = dt.datetime(2026, 10, 5, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    fake_gateway.mode = "error500"
    assert services.send_due(now=now).retrying == 1
    fake_gateway.mode = "slow"  # a timeout: retried too
    assert services.send_due(now=now + dt.timedelta(minutes=1)).retrying == 1
    fake_gateway.mode = "ok"
    assert services.send_due(now=now + dt.timedelta(minutes=3)).sent == 1
    msg.refresh_from_db()
    assert (msg.status, msg.attempts, msg.provider_message_id, msg.gateway) == (MessageStatus.SENT, 3, "gw-1", "http")
    assert fake_gateway.received[0]["text"] == msg.text and fake_gateway.received[0]["reference"] == str(msg.pk)
    assert services.poll_delivery()["pending"] == 1
    fake_gateway.statuses["gw-1"] = "delivered"
    assert services.poll_delivery()["delivered"] == 1
    msg.refresh_from_db()
    assert msg.status == MessageStatus.DELIVERED
