"""The API fuzzed from its own OpenAPI schema (schemathesis): every operation, with generated
valid and invalid requests (the examples, coverage and fuzzing phases) and every response check.
A request the schema calls valid is answered with a status the schema documents for it (a
registry rule may refuse it: 422 of type `rule`), an invalid one is refused with a documented
4xx, and nothing is ever a server error.

The requests go through Django's WSGI handler (middleware included) into the test database, with
a personal token of the commune A officer. So that the endpoints' logic runs and not only their
404s, most valid requests are steered onto real rows and plausible values (`_steer`): ids of the
beneficiaries, representations and areas below, real category codes, CCCDs that match the birth
date. The steering is a function of the generated values, so Hypothesis replays a failure
exactly; invalid requests are sent as generated."""

import contextlib
import json
import zlib
from datetime import date, timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from ansinh.api.urls import api
from tests.factories import cccd_for

# Examples per operation and generation mode (valid / invalid), besides the coverage phase's
# boundary cases. The whole file takes about a minute on CI's two cores (two at most).
MAX_EXAMPLES = 50

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        "checks": {
            "enabled": True,
            # a well-formed request may still be refused by a registry rule (422 of type "rule");
            # that the parser never refuses one is `parsed_when_the_schema_says_valid` below
            "positive_data_acceptance": {"expected-statuses": ["2xx", "403", "404", "422"]},
        },
    }
)

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)
schema.app = WSGIHandler()  # every request, the checks' own probes too, goes through Django


@schemathesis.check
def parsed_when_the_schema_says_valid(ctx, response, case):
    """A request the schema calls valid may be refused by a registry rule (422 of type `rule`),
    never by the request parser: that would be a constraint the schema does not document."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return None
    parser_errors = [e for e in response.json()["detail"] if e.get("type") != "rule"]
    if parser_errors:
        raise AssertionError(f"A request valid by the schema was refused by the parser: {parser_errors}")
    return None


# --- steering valid requests onto real data -------------------------------------------------

# Real values by parameter or field name, filled by the `fuzz_data` fixture before generation.
KNOWN: dict[str, list] = {}
NAMES = ["Nguyễn Thị Ánh", "Lê Văn Cường", "Trần Văn Bình", "Phạm Thị Dung"]
KINDS = ["start", "adjust", "suspend", "resume", "stop", "move"]
REASONS = ["died", "moved", "ineligible"]
DATES = ["signed_on", "effective_month", "event_date", "death_date", "decision_date", "start_month", "valid_from"]
TODAY = date.today()
RECENT = [TODAY.isoformat(), (TODAY - timedelta(days=20)).isoformat(), TODAY.replace(day=1).isoformat()]
PHONES = ["0912345678", "", "+84987654321", "0903 123 456"]


def _pick(seed: int, name: str, value, choices: list):
    """Most of the time one of `choices`, chosen by the case's content; else the value itself."""
    key = zlib.crc32(f"{seed}:{name}".encode())
    return value if not choices or key % 5 == 0 else choices[key % len(choices)]


def _steer(data: dict, seed: int) -> None:
    for name, value in list(data.items()):
        if name in KNOWN and value is not None:
            data[name] = _pick(seed, name, value, KNOWN[name])
        elif name == "full_name" and isinstance(value, str):
            data[name] = _pick(seed, name, value, NAMES)
        elif name == "phone" and isinstance(value, str):
            data[name] = _pick(seed, name, value, PHONES)
        elif name == "kind" and value in KINDS:
            data[name] = _pick(seed, name, value, KINDS)
        elif name == "reason" and value == "":
            data[name] = _pick(seed, name, value, REASONS)
        elif name in DATES and isinstance(value, str):
            data[name] = _pick(seed, name, value, RECENT)
        elif isinstance(value, dict):
            _steer(value, seed + 1)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    _steer(item, seed + 2 + i)
    if data.get("kind") in KINDS and data["kind"] != "move" and zlib.crc32(f"{seed}:to".encode()) % 4:
        data.pop("to_commune_id", None)
        data.pop("to_village_id", None)
    if data.get("categories") == [] and zlib.crc32(f"{seed}:categories".encode()) % 3:
        data["categories"] = [{"code": _pick(seed, "code", "", KNOWN.get("code", []))}]
    if data.get("decision_number") == "" and zlib.crc32(f"{seed}:number".encode()) % 3:
        data["decision_number"] = "15/QĐ-UBND"
    birth, gender = data.get("birth_date"), data.get("gender")
    plausible = isinstance(data.get("cccd"), str) and isinstance(birth, str) and gender in ("male", "female")
    if plausible and zlib.crc32(f"{seed}:cccd".encode()) % 3:
        with contextlib.suppress(ValueError):
            data["cccd"] = cccd_for(date.fromisoformat(birth), gender)


@schemathesis.hook  # at sending time: the coverage phase builds its cases at collection, before the rows exist
def before_call(context, case, kwargs):
    meta = case.meta
    if (
        case.operation.schema.raw_schema is not schema.raw_schema
        or meta is None
        or not meta.generation.mode.is_positive
    ):
        return
    for part in (case.path_parameters, case.query, case.body):
        if isinstance(part, dict):
            _steer(part, zlib.crc32(json.dumps(part, sort_keys=True, default=str).encode()))


# --- the run --------------------------------------------------------------------------------

# The officer's token, fixed: schemathesis builds some cases (and their headers) at collection.
TOKEN = "ans_fuzz-officer-of-commune-a-0123456789abcdef"


@schema.auth(refresh_interval=None)
class OfficerToken:
    """The officer's personal token, given to schemathesis (not as a plain header) so that it
    leaves it out of the cases that test a missing or invalid token."""

    def get(self, case, context):
        return TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def in_test_transaction():
    """Requests inside the test's transaction: like Django's test client, keep the request signals
    from closing the database connection (which would end the test transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data(tree, policy, officer_a, officer_b, register, monkeypatch):
    """Two beneficiaries of A (one with a paid guardian), one of B moving to A; the officer of A's
    token."""
    from ansinh.accounts.models import ApiToken
    from ansinh.accounts.services import create_api_token
    from ansinh.policy.models import Category
    from ansinh.registry import services
    from ansinh.registry.models import Representation

    guardian = {
        "person": {
            "full_name": "Trần Văn Bình",
            "cccd": "089080012345",
            "gender": "male",
            "birth_date": date(1980, 1, 1),
        },
        "kind": "guardian",
        "is_payee": True,
    }
    a1 = register(representatives=[guardian])
    a2 = register(full_name="Lê Văn Cường", birth_date=date(1948, 2, 3), gender="male", cccd="", phone="")
    b1 = register(actor=officer_b, commune_id=tree.b.pk, village_id=None, full_name="Phạm Thị Dung", cccd="")
    # B's beneficiary moves to A: a move that the officer of A may accept
    today = date.today()
    move = services.record_decision(
        actor=officer_b,
        beneficiary=b1,
        kind="move",
        number="9/QĐ-UBND",
        signed_on=today,
        event_date=today - timedelta(days=3),
        to_commune=tree.a,
    )
    codes = list(Category.objects.order_by("code").values_list("code", flat=True))
    communes = [tree.a.pk, tree.b.pk]
    KNOWN.clear()
    KNOWN.update(
        beneficiary_id=[a1.pk, a2.pk, b1.pk],
        representation_id=list(Representation.objects.values_list("pk", flat=True)),
        area_id=[tree.a.pk, tree.village_a.pk, tree.b.pk, tree.province.pk],
        move_id=[move.pk],
        area=[tree.a.pk, tree.village_a.pk, tree.b.pk],
        parent=[tree.district.pk, tree.a.pk, tree.province.pk],
        commune_id=communes,
        to_commune_id=communes,
        village_id=[tree.village_a.pk],
        to_village_id=[tree.village_a.pk],
        code=["D20.5.6", *codes[:: max(1, len(codes) // 6)]],
        category=["D20.5.6", ""],
    )
    monkeypatch.setattr(ApiToken, "generate_raw", classmethod(lambda cls: TOKEN))
    create_api_token(actor=None, user=officer_a)
    yield
    KNOWN.clear()


@schema.parametrize()
@settings(
    deadline=None,
    # the fixtures are deliberately shared by all the examples of an operation (one database);
    # slow or filtered generation is the fuzzer's business, not a defect of the API
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api_conforms_to_its_schema(case, fuzz_data, in_test_transaction):
    case.call_and_validate()
