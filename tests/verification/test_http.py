"""The HTTP client of the reference protocol against a local fake server that checks signatures
(docs/population-adapter.md)."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansinh.verification.adapters import AdapterError, PersonQuery, get_adapter
from ansinh.verification.adapters.http import VERIFY_PATH, HttpAdapter, sign, signature_valid
from ansinh.verification.models import VerificationRun
from ansinh.verification.services import run_verification

KEY = b"khoa-bi-mat-dung-chung-thu-nghiem"
REGISTER = {
    "089150000001": {"full_name": "Lê Văn An", "birth_date": "1950-01-01", "gender": "male"},
    "089148000002": {
        "full_name": "Trần Thị Bình",
        "birth_date": "1948-02-02",
        "gender": "female",
        "death": "2026-01-05",
    },
}


class FakePopulationServer(BaseHTTPRequestHandler):
    """Checks the signature and the replay window, then answers from REGISTER."""

    delay = 0.0
    seen: list = []

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body: dict):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = signature_valid(
            KEY, "POST", self.path, self.headers.get("X-Timestamp", ""), body, self.headers.get("X-Signature", "")
        )
        type(self).seen.append((self.path, self.headers.get("X-Client-Id"), ok))
        if self.path != VERIFY_PATH:
            return self._reply(404, {"error": "not_found"})
        if not ok:
            return self._reply(401, {"error": "bad_signature"})
        time.sleep(type(self).delay)
        results = []
        for item in json.loads(body)["items"]:
            known = REGISTER.get(item["cccd"])
            if known is None:
                results.append({"ref": item["ref"], "status": "not_found"})
            elif "death" in known:
                results.append({"ref": item["ref"], "status": "deceased", "death_date": known["death"]})
            else:
                fields = [f for f in ("full_name", "birth_date", "gender") if item[f] != known[f]]
                results.append({"ref": item["ref"], "status": "mismatch" if fields else "match", "fields": fields})
        return self._reply(200, {"request_id": json.loads(body)["request_id"], "results": results})


@pytest.fixture
def server():
    FakePopulationServer.delay = 0.0
    FakePopulationServer.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakePopulationServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


QUERIES = [
    PersonQuery(ref="a", cccd="089150000001", full_name="Lê Văn An", birth_date=date(1950, 1, 1), gender="male"),
    PersonQuery(ref="b", cccd="089150000001", full_name="Lê Văn Ân", birth_date=date(1950, 1, 1), gender="male"),
    PersonQuery(ref="c", cccd="089148000002", full_name="Trần Thị Bình", birth_date=date(1948, 2, 2), gender="female"),
    PersonQuery(ref="d", cccd="089199999999", full_name="Không Có", birth_date=date(1999, 9, 9), gender="male"),
]


def test_signed_request_is_accepted_and_answers_are_read(server):
    adapter = HttpAdapter(base_url=server, client_id="ansinh-test", key=KEY, timeout=5)
    answers = adapter.verify(QUERIES)

    assert [(a.ref, a.outcome, a.mismatched_fields, a.death_date) for a in answers] == [
        ("a", "match", [], None),
        ("b", "mismatch", ["full_name"], None),
        ("c", "deceased", [], date(2026, 1, 5)),
        ("d", "not_found", [], None),
    ]
    assert FakePopulationServer.seen == [(VERIFY_PATH, "ansinh-test", True)]
    assert adapter.source == "http:127.0.0.1"


def test_a_wrong_key_is_refused(server):
    adapter = HttpAdapter(base_url=server, client_id="ansinh-test", key=b"another-key", timeout=5)
    with pytest.raises(AdapterError, match="401"):
        adapter.verify(QUERIES)
    assert FakePopulationServer.seen == [(VERIFY_PATH, "ansinh-test", False)]


def test_a_slow_server_is_a_timeout(server):
    FakePopulationServer.delay = 1.5
    adapter = HttpAdapter(base_url=server, client_id="ansinh-test", key=KEY, timeout=0.3)
    with pytest.raises(AdapterError, match="in time"):
        adapter.verify(QUERIES)


def test_signatures_outside_the_replay_window_or_altered_are_invalid():
    body = b'{"items": []}'
    now = 1_800_000_000
    good = sign(KEY, "POST", VERIFY_PATH, str(now), body)
    assert signature_valid(KEY, "POST", VERIFY_PATH, str(now), body, good, now=now + 299)
    assert not signature_valid(KEY, "POST", VERIFY_PATH, str(now), body, good, now=now + 301)  # replayed later
    assert not signature_valid(KEY, "POST", VERIFY_PATH, str(now), body + b" ", good, now=now)  # body changed
    assert not signature_valid(KEY, "POST", "/v1/other", str(now), body, good, now=now)  # path changed
    assert not signature_valid(KEY, "POST", VERIFY_PATH, "not-a-time", body, good, now=now)


def test_a_run_through_the_http_adapter_configured_by_settings(server, settings, people, police_a, tree):
    settings.ANSINH_POPULATION_ADAPTER = "http"
    settings.ANSINH_POPULATION_URL = server
    settings.ANSINH_POPULATION_CLIENT_ID = "ansinh-test"
    settings.ANSINH_POPULATION_KEY = KEY.decode()
    settings.ANSINH_POPULATION_TIMEOUT = 5

    assert isinstance(get_adapter(), HttpAdapter)
    run = run_verification(actor=police_a, commune=tree.a)
    assert run.source == "http:127.0.0.1"
    assert run.checked == 5 and run.not_found == 5  # none of the fake register's CCCDs is theirs
    assert all(ok for _path, _client, ok in FakePopulationServer.seen)


def test_a_refusal_during_a_run_stores_nothing(server, settings, people, police_a, tree):
    settings.ANSINH_POPULATION_ADAPTER = "http"
    settings.ANSINH_POPULATION_URL = server
    settings.ANSINH_POPULATION_CLIENT_ID = "ansinh-test"
    settings.ANSINH_POPULATION_KEY = "wrong"
    with pytest.raises(AdapterError):
        run_verification(actor=police_a, commune=tree.a)
    assert not VerificationRun.objects.exists()
