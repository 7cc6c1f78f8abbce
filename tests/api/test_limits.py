"""What the API refuses before any database work, and that its schema says so: ids beyond a
64-bit key, texts with a NUL character, unknown enum values and pages past the counted window
are 422s (never server errors), and the OpenAPI schema documents every status an operation
answers and every constraint it enforces (ansinh/api/common.py)."""

import pytest

from ansinh.api.common import MAX_ID
from ansinh.registry.models import Beneficiary, Decision, Representation

JSON = "application/json"
HUGE = 2**64  # beyond any bigint primary key
IDS_OUT_OF_RANGE = [HUGE, MAX_ID + 1, 0, -1]


@pytest.fixture
def beneficiary(register):
    return register(
        representatives=[
            {
                "person": {"full_name": "Trần Văn Bình", "gender": "male"},
                "kind": "guardian",
                "is_payee": True,
            }
        ]
    )


@pytest.fixture
def officer(clients):
    return clients["officer_a"]


def assert_422_at(response, *loc):
    assert response.status_code == 422, response.content
    assert list(loc) in [e["loc"][: len(loc)] for e in response.json()["detail"]], response.json()


# --- ids beyond 64 bits -------------------------------------------------------------------


@pytest.mark.parametrize("value", IDS_OUT_OF_RANGE)
def test_area_ids_out_of_range_are_422(value, officer, tree):
    assert_422_at(officer.get(f"/api/v1/areas?parent={value}"), "query", "parent")
    assert_422_at(officer.get(f"/api/v1/areas/{value}"), "path", "area_id")
    assert_422_at(officer.get(f"/api/v1/beneficiaries?area={value}"), "query", "area")


@pytest.mark.parametrize("value", IDS_OUT_OF_RANGE)
@pytest.mark.parametrize(
    "method,template",
    [
        ("get", "/api/v1/beneficiaries/{id}"),
        ("patch", "/api/v1/beneficiaries/{id}"),
        ("get", "/api/v1/beneficiaries/{id}/decisions"),
        ("get", "/api/v1/beneficiaries/{id}/representatives"),
        ("delete", "/api/v1/beneficiaries/{id}/representatives/1"),
    ],
)
def test_path_ids_out_of_range_are_422(method, template, value, officer, policy):
    response = getattr(officer, method)(template.format(id=value), {}, JSON)
    assert_422_at(response, "path", "beneficiary_id")


@pytest.mark.parametrize("field", ["commune_id", "village_id"])
@pytest.mark.parametrize("value", [HUGE, 0])
def test_registration_with_an_id_out_of_range_is_422(field, value, officer, tree, policy):
    body = {
        "full_name": "Lê Văn Cường",
        "birth_date": "1948-02-03",
        "gender": "male",
        "commune_id": tree.a.pk,
        "categories": [{"code": "D20.5.6"}],
        "start_month": "2025-06-01",
        field: value,
    }
    assert_422_at(officer.post("/api/v1/beneficiaries", body, JSON), "body", "payload", field)
    assert not Beneficiary.objects.exists()


def test_body_ids_out_of_range_are_422(beneficiary, officer):
    base = f"/api/v1/beneficiaries/{beneficiary.pk}"
    link = Representation.objects.get(beneficiary=beneficiary)
    decisions = Decision.objects.count()

    assert_422_at(officer.patch(base, {"village_id": HUGE}, JSON), "body", "payload", "village_id")
    assert_422_at(officer.post(f"{base}/payee", {"representation_id": HUGE}, JSON), "body", "payload")
    assert_422_at(
        officer.delete(f"{base}/representatives/{HUGE}"), "path", "representation_id"
    )  # a path id of the representation
    move = {"kind": "move", "number": "7/QĐ-UBND", "signed_on": "2026-02-03", "event_date": "2026-01-20"}
    for field in ("to_commune_id", "to_village_id"):
        response = officer.post(f"{base}/decisions", {**move, field: HUGE}, JSON)
        assert_422_at(response, "body", "payload", field)
    assert Decision.objects.count() == decisions
    link.refresh_from_db()
    assert link.ended_at is None and link.is_payee


def test_move_acceptance_with_an_id_out_of_range_is_422(officer, policy):
    assert_422_at(
        officer.post(f"/api/v1/moves/{HUGE}/accept", {"number": "1", "signed_on": "2026-01-01"}, JSON),
        "path",
        "move_id",
    )


def test_the_largest_id_is_a_plain_404(beneficiary, officer):
    assert officer.get(f"/api/v1/beneficiaries/{MAX_ID}").status_code == 404
    assert officer.get(f"/api/v1/areas/{MAX_ID}").status_code == 404
    assert officer.get(f"/api/v1/areas?parent={MAX_ID}").json() == []


# --- texts and closed lists -----------------------------------------------------------------


def test_a_nul_character_is_422_not_a_database_error(beneficiary, officer):
    # PostgreSQL text cannot hold U+0000: it used to reach the database and fail there
    assert_422_at(officer.get("/api/v1/beneficiaries?q=a%00b"), "query", "q")
    response = officer.patch(f"/api/v1/beneficiaries/{beneficiary.pk}", {"address": "Số 3\x00"}, JSON)
    assert_422_at(response, "body", "payload", "address")
    beneficiary.refresh_from_db()
    assert beneficiary.address == ""


@pytest.mark.parametrize(
    "path,body,loc",
    [
        ("", {"gender": "other"}, "gender"),
        ("/representatives", {"full_name": "Phạm Thị Dung", "kind": "friend"}, "kind"),
        ("/representatives", {"full_name": "Phạm Thị Dung", "kind": "guardian", "gender": "x"}, "gender"),
        ("/decisions", {"kind": "pause", "number": "1", "signed_on": "2026-01-01"}, "kind"),
        ("/decisions", {"kind": "stop", "number": "1", "signed_on": "2026-01-01", "reason": "bored"}, "reason"),
        ("/decisions", {"kind": "stop", "number": "", "signed_on": "2026-01-01"}, "number"),
        ("/representatives", {"full_name": "", "kind": "guardian"}, "full_name"),
    ],
)
def test_values_outside_the_documented_lists_are_422(path, body, loc, beneficiary, officer):
    url = f"/api/v1/beneficiaries/{beneficiary.pk}{path}"
    response = officer.patch(url, body, JSON) if not path else officer.post(url, body, JSON)
    assert_422_at(response, "body", "payload", loc)


def test_unknown_area_level_is_422(officer, tree):
    assert_422_at(officer.get("/api/v1/areas?level=hamlet"), "query", "level")
    assert [a["id"] for a in officer.get("/api/v1/areas?level=village").json()] == [tree.village_a.pk]


# --- pages --------------------------------------------------------------------------------


def test_page_number_is_bounded(officer, policy):
    from ansinh.registry.queries import COUNT_CAP

    assert_422_at(officer.get(f"/api/v1/beneficiaries?page={COUNT_CAP + 1}"), "query", "page")
    assert_422_at(officer.get(f"/api/v1/beneficiaries?page={HUGE}"), "query", "page")
    assert officer.get(f"/api/v1/beneficiaries?page={COUNT_CAP}").status_code == 200


def test_pages_after_the_counted_window_are_empty_without_a_row_query(
    register, officer, monkeypatch, django_assert_max_num_queries
):
    from datetime import date

    from ansinh.registry import queries
    from tests.factories import cccd_for

    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    for i in range(5):
        birth = date(1940, 1, 1 + i)
        register(
            full_name=f"Nguyễn Văn Số {chr(65 + i)}",
            birth_date=birth,
            gender="male",
            cccd=cccd_for(birth, "male", f"00000{i}"),
            phone="",
        )
    officer.get("/api/v1/me")  # the token's last-used stamp, written once a minute
    # the window holds the first 3 matches: page 2 of 2 ends there
    second = officer.get("/api/v1/beneficiaries?page=2&page_size=2").json()
    assert [i["full_name"] for i in second["items"]] == ["Nguyễn Văn Số C"]
    assert (second["count"], second["count_exact"], second["pages"], second["has_next"]) == (3, False, 2, False)
    with django_assert_max_num_queries(3):  # auth and the capped count; no OFFSET scan
        deep = officer.get("/api/v1/beneficiaries?page=9999&page_size=200").json()
    assert (deep["items"], deep["has_next"], deep["page"]) == ([], False, 9999)


# --- the schema documents it ----------------------------------------------------------------


@pytest.fixture
def openapi(client):
    return client.get("/api/v1/openapi.json").json()


def test_every_operation_documents_401_and_its_error_statuses(openapi):
    for path, operations in openapi["paths"].items():
        for method, op in operations.items():
            statuses = set(op["responses"])
            assert "401" in statuses, (method, path)
            if op.get("parameters") or "requestBody" in op:
                assert "422" in statuses, (method, path)
            if "requestBody" in op:
                assert "400" in statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
            if method in ("post", "patch", "delete") and path != "/api/v1/beneficiaries":
                assert "403" in statuses, (method, path)
            error = op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
            assert error == "#/components/schemas/Message"


def test_422_body_is_documented(openapi):
    schemas = openapi["components"]["schemas"]
    ref = openapi["paths"]["/api/v1/beneficiaries"]["post"]["responses"]["422"]["content"]["application/json"]
    assert ref["schema"]["$ref"] == "#/components/schemas/ValidationErrors"
    assert set(schemas["FieldError"]["required"]) == {"loc", "msg"}


def test_schema_states_enums_lengths_and_id_ranges(openapi):
    schemas = openapi["components"]["schemas"]
    new = schemas["BeneficiaryIn"]["properties"]
    assert new["gender"]["enum"] == ["male", "female"]
    assert new["commune_id"]["minimum"] == 1 and new["commune_id"]["maximum"] == MAX_ID
    assert new["full_name"]["minLength"] == 1 and new["full_name"]["maxLength"] == 150
    assert "pattern" in new["address"]
    rep = schemas["RepresentationIn"]["properties"]
    assert rep["kind"]["enum"] == ["guardian", "authorised"]
    assert rep["gender"]["enum"] == ["", "male", "female"]
    decision = schemas["DecisionIn"]["properties"]
    assert set(decision["kind"]["enum"]) == {"start", "adjust", "suspend", "resume", "stop", "move"}
    assert set(decision["reason"]["enum"]) == {"", "died", "moved", "ineligible"}
    units = schemas["CategoryIn"]["properties"]["units"]
    assert (units["minimum"], units["maximum"]) == (1, 99)
    params = {p["name"]: p["schema"] for p in openapi["paths"]["/api/v1/beneficiaries"]["get"]["parameters"]}
    assert params["page"]["maximum"] >= 1 and params["page_size"]["maximum"] == 200
    assert params["needs"]["items"]["enum"] == ["cannot_travel", "no_phone", "cannot_read_vietnamese", "frail"]
    for path in ("/api/v1/beneficiaries/{beneficiary_id}", "/api/v1/areas/{area_id}"):
        [param] = openapi["paths"][path]["get"]["parameters"]
        assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, MAX_ID)
