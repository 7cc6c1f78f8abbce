"""The registry API: scoping by persona, search, registration and corrections, CCCD masking,
validation errors, OpenAPI and token checks. Decisions and representatives have their own files."""

from datetime import date

import pytest
from django.utils import translation

from ansinh.accounts.services import create_api_token, revoke_api_token
from ansinh.registry.models import Beneficiary, Decision, Representation
from tests.factories import cccd_for

JSON = "application/json"


def vi(msgid: str) -> str:
    with translation.override("vi"):
        return translation.gettext(msgid)


def skip_unless_translated(msgid: str) -> str:
    """The Vietnamese text of msgid; skips while the catalog does not translate it yet, so the
    test asserts something real once translations are compiled (and never passes vacuously)."""
    text = vi(msgid)
    if text == msgid:
        pytest.skip("Vietnamese catalog not compiled yet for this message")
    return text


def locs(response) -> list[list]:
    return [e["loc"] for e in response.json()["detail"]]


def new_beneficiary(tree, **overrides) -> dict:
    birth = date.fromisoformat(overrides.get("birth_date", "1948-02-03"))
    gender = overrides.get("gender", "male")
    body = {
        "full_name": "Lê Văn Cường",
        "birth_date": birth.isoformat(),
        "gender": gender,
        "commune_id": tree.a.pk,
        "village_id": tree.village_a.pk,
        "cccd": cccd_for(birth, gender, tail="654321"),
        "phone": "0987 654 321",
        "categories": [{"code": "D20.5.6", "condition": "severe:adult"}],
        "decision_number": "21/QĐ-UBND",
        "decision_date": "2025-06-05",
    }
    body.update(overrides)
    return body


# --- every endpoint × the three personas ----------------------------------------------------

ENDPOINTS = {
    # name: (method, path template, body, expected status for officer_a, viewer_a, officer_b)
    "list": ("get", "/api/v1/beneficiaries", None, (200, 200, 200)),
    "detail": ("get", "/api/v1/beneficiaries/{b}", None, (200, 200, 404)),
    "patch": ("patch", "/api/v1/beneficiaries/{b}", {"address": "Số 3, đường Lê Lợi"}, (200, 403, 404)),
    "decisions": ("get", "/api/v1/beneficiaries/{b}/decisions", None, (200, 200, 404)),
    "decide": (
        "post",
        "/api/v1/beneficiaries/{b}/decisions",
        {"kind": "suspend", "number": "30/QĐ-UBND", "signed_on": "2026-02-03"},
        (201, 403, 404),
    ),
    "representatives": ("get", "/api/v1/beneficiaries/{b}/representatives", None, (200, 200, 404)),
    "add_representative": (
        "post",
        "/api/v1/beneficiaries/{b}/representatives",
        {"full_name": "Phạm Thị Dung", "kind": "authorised", "phone": "0903123456"},
        (201, 403, 404),
    ),
    "payee": ("post", "/api/v1/beneficiaries/{b}/payee", {"representation_id": None}, (200, 403, 404)),
    "end_representative": ("delete", "/api/v1/beneficiaries/{b}/representatives/{r}", None, (204, 403, 404)),
}
PERSONAS = ("officer_a", "viewer_a", "officer_b")


@pytest.fixture
def beneficiary(register):
    return register(
        representatives=[
            {
                "person": {
                    "full_name": "Trần Văn Bình",
                    "cccd": "089080012345",
                    "gender": "male",
                    "birth_date": date(1980, 1, 1),
                },
                "kind": "guardian",
                "is_payee": True,
            }
        ]
    )


@pytest.mark.parametrize("persona_index,persona", list(enumerate(PERSONAS)))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_each_endpoint_answers_each_persona(endpoint, persona_index, persona, beneficiary, clients):
    method, template, body, expected = ENDPOINTS[endpoint]
    link = Representation.objects.get(beneficiary=beneficiary)
    path = template.format(b=beneficiary.pk, r=link.pk)
    client = clients[persona]
    kwargs = {"data": body, "content_type": JSON} if body is not None else {}
    before = (Decision.objects.count(), Representation.objects.filter(ended_at__isnull=True).count())

    response = getattr(client, method)(path, **kwargs)

    assert response.status_code == expected[persona_index], response.content
    if endpoint == "list":
        ids = [item["id"] for item in response.json()["items"]]
        assert ids == ([] if persona == "officer_b" else [beneficiary.pk])
    if response.status_code in (403, 404):
        after = (Decision.objects.count(), Representation.objects.filter(ended_at__isnull=True).count())
        assert after == before
        assert Beneficiary.objects.get(pk=beneficiary.pk).address == ""


def test_read_only_user_gets_a_translated_403(beneficiary, clients):
    response = clients["viewer_a"].patch(f"/api/v1/beneficiaries/{beneficiary.pk}", {"frail": True}, JSON)
    assert response.status_code == 403
    assert response.json()["detail"] == vi("Your role does not allow changing the registry in this area.")
    assert not Beneficiary.objects.get(pk=beneficiary.pk).frail


@pytest.mark.parametrize("persona,status", [("officer_a", 201), ("viewer_a", 403), ("officer_b", 404)])
def test_create_in_commune_a_by_persona(persona, status, clients, tree, policy):
    response = clients[persona].post("/api/v1/beneficiaries", new_beneficiary(tree), JSON)
    assert response.status_code == status, response.content
    assert Beneficiary.objects.count() == (1 if status == 201 else 0)


def test_officer_b_creates_in_own_commune(clients, tree, policy):
    body = new_beneficiary(tree, commune_id=tree.b.pk, village_id=None)
    response = clients["officer_b"].post("/api/v1/beneficiaries", body, JSON)
    assert response.status_code == 201
    assert response.json()["commune"] == {"id": tree.b.pk, "name": tree.b.name}


def test_unknown_commune_is_404(clients, policy):
    response = clients["officer_a"].post("/api/v1/beneficiaries", new_beneficiary_for_commune(999999), JSON)
    assert response.status_code == 404


def new_beneficiary_for_commune(commune_id: int) -> dict:
    return {
        "full_name": "Lê Văn Cường",
        "birth_date": "1948-02-03",
        "gender": "male",
        "commune_id": commune_id,
        "categories": [{"code": "D20.5.6"}],
        "start_month": "2025-06-01",
    }


# --- registration ---------------------------------------------------------------------------


def test_create_returns_the_registered_beneficiary(clients, tree, policy):
    body = new_beneficiary(
        tree,
        representatives=[
            {
                "full_name": "Lê Thị Hoa",
                "birth_date": "1975-04-30",
                "gender": "female",
                "cccd": "089175000111",
                "kind": "guardian",
                "relationship": "con gái",
                "is_payee": True,
            }
        ],
    )
    response = clients["officer_a"].post("/api/v1/beneficiaries", body, JSON)
    assert response.status_code == 201, response.content
    data = response.json()
    b = Beneficiary.objects.get()
    assert data["id"] == b.pk
    assert data["status"] == "active"
    assert data["start_month"] == "2025-06-01"
    assert data["phone"] == "+84987654321"
    assert data["phone_display"] == "0987 654 321"
    assert data["cccd"] == body["cccd"] and data["cccd_masked"] is False
    assert [c["code"] for c in data["categories"]] == ["D20.5.6"]
    assert data["categories"][0]["condition"] == "severe:adult"
    assert [(d["kind"], d["number"]) for d in data["decisions"]] == [("start", "21/QĐ-UBND")]
    [rep] = data["representatives"]
    assert rep["is_payee"] and data["payee_representation_id"] == rep["id"]
    assert b.village_id == tree.village_a.pk


def test_cccd_contradicting_birth_year_is_422_on_cccd(clients, tree, policy):
    body = new_beneficiary(tree, cccd="089060654321")  # says born 1960; the record says 1948
    response = clients["officer_a"].post("/api/v1/beneficiaries", body, JSON)
    assert response.status_code == 422
    assert ["body", "cccd"] in locs(response)
    assert all(e["msg"] for e in response.json()["detail"])
    assert Beneficiary.objects.count() == 0


def test_cccd_error_message_is_vietnamese(clients, tree, policy):
    msgid = (
        "Digits 5–6 (%(digits)s) must be the last two digits of the birth year (%(year)d): check "
        "the number and the date of birth against the card."
    )
    expected = skip_unless_translated(msgid) % {"digits": "60", "year": 1948}
    response = clients["officer_a"].post("/api/v1/beneficiaries", new_beneficiary(tree, cccd="089060654321"), JSON)
    [cccd_error] = [e for e in response.json()["detail"] if e["loc"] == ["body", "cccd"]]
    assert expected in cccd_error["msg"]


def test_cccd_of_a_receiving_beneficiary_is_422(register, clients, tree):
    existing = register(full_name="Võ Văn Em", birth_date=date(1948, 2, 3), gender="male")
    body = new_beneficiary(tree, cccd=existing.cccd)
    response = clients["officer_a"].post("/api/v1/beneficiaries", body, JSON)
    assert response.status_code == 422
    assert ["body", "cccd"] in locs(response)
    assert Beneficiary.objects.count() == 1


def test_likely_duplicate_is_422_unless_accepted(register, clients, tree):
    register(full_name="Nguyễn Thị Ánh", birth_date=date(1950, 5, 17), cccd="")
    body = new_beneficiary(tree, full_name="NGUYEN THI ANH", birth_date="1950-05-17", gender="female", cccd="")

    refused = clients["officer_a"].post("/api/v1/beneficiaries", body, JSON)
    assert refused.status_code == 422
    assert ["body", "full_name"] in locs(refused)
    assert Beneficiary.objects.count() == 1

    accepted = clients["officer_a"].post("/api/v1/beneficiaries", {**body, "accept_duplicate": True}, JSON)
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["has_issues"] is True
    assert any(i["field"] == "full_name" for i in accepted.json()["quality_issues"])


def test_schema_errors_are_422_with_loc_and_msg(clients, tree, policy):
    body = new_beneficiary(tree)
    del body["full_name"]
    body["birth_date"] = "not a date"
    response = clients["officer_a"].post("/api/v1/beneficiaries", body, JSON)
    assert response.status_code == 422
    fields = {e["loc"][-1] for e in response.json()["detail"]}
    assert {"full_name", "birth_date"} <= fields
    assert all(e["msg"] for e in response.json()["detail"])


def test_unknown_category_and_village_of_another_commune_are_field_errors(clients, tree, policy):
    from ansinh.areas.models import Area, Level

    village_b = Area.objects.create(tree=tree.b.tree, level=Level.VILLAGE, name="Ấp B1", parent=tree.b)
    body = new_beneficiary(tree, village_id=village_b.pk, categories=[{"code": "X.9"}])
    response = clients["officer_a"].post("/api/v1/beneficiaries", body, JSON)
    assert response.status_code == 422
    assert {"categories", "village"} <= {loc[-1] for loc in locs(response)}


# --- corrections ----------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(beneficiary, clients):
    response = clients["officer_a"].patch(
        f"/api/v1/beneficiaries/{beneficiary.pk}",
        {"phone": "0903 111 222", "cannot_travel": True, "address": "Tổ 4"},
        JSON,
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["phone"], data["phone_display"]) == ("+84903111222", "0903 111 222")
    assert data["cannot_travel"] is True and data["address"] == "Tổ 4"
    b = Beneficiary.objects.get(pk=beneficiary.pk)
    assert (b.full_name, b.cccd, b.birth_date, b.village_id) == (
        beneficiary.full_name,
        beneficiary.cccd,
        beneficiary.birth_date,
        beneficiary.village_id,
    )
    assert [c["code"] for c in data["categories"]] == ["D20.5.6"]


def test_patch_validates_like_the_form(beneficiary, clients):
    response = clients["officer_a"].patch(
        f"/api/v1/beneficiaries/{beneficiary.pk}", {"cccd": "089160012345"}, JSON
    )  # says born 1960; the record says 1950
    assert response.status_code == 422
    assert ["body", "cccd"] in locs(response)
    assert Beneficiary.objects.get(pk=beneficiary.pk).cccd == beneficiary.cccd


def test_patch_cannot_move_the_commune(beneficiary, clients, tree):
    response = clients["officer_a"].patch(f"/api/v1/beneficiaries/{beneficiary.pk}", {"commune_id": tree.b.pk}, JSON)
    assert response.status_code == 422
    assert Beneficiary.objects.get(pk=beneficiary.pk).commune_id == tree.a.pk


# --- CCCD and phone in answers --------------------------------------------------------------


def test_cccd_is_full_for_officer_and_masked_for_viewer(beneficiary, clients):
    path = f"/api/v1/beneficiaries/{beneficiary.pk}"
    officer = clients["officer_a"].get(path).json()
    viewer = clients["viewer_a"].get(path).json()
    assert officer["cccd"] == beneficiary.cccd and officer["cccd_masked"] is False
    assert viewer["cccd"] == beneficiary.masked_cccd and viewer["cccd_masked"] is True
    assert beneficiary.cccd not in viewer["cccd"]
    assert officer["representatives"][0]["cccd"] == "089080012345"
    assert viewer["representatives"][0]["cccd"] == "********2345"
    listed = clients["viewer_a"].get("/api/v1/beneficiaries").json()["items"][0]
    assert listed["cccd"] == beneficiary.masked_cccd
    reps = clients["viewer_a"].get(f"{path}/representatives").json()
    assert reps[0]["cccd"] == "********2345"


# --- search ---------------------------------------------------------------------------------


def search(client, query: str = "") -> list[str]:
    response = client.get("/api/v1/beneficiaries" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.content
    return [item["full_name"] for item in response.json()["items"]]


@pytest.fixture
def people(register, tree, policy):
    from ansinh.registry.inputs import CategoryInput

    return {
        "anh": register(full_name="Nguyễn Thị Ánh", birth_date=date(1950, 5, 17), phone="0912345678", frail=True),
        "binh": register(
            full_name="Trần Văn Bình",
            birth_date=date(1941, 1, 2),
            gender="male",
            phone="0903000111",
            village_id=None,
            cannot_travel=True,
            frail=True,
        ),
        "dung": register(
            full_name="Đặng Thị Dung",
            birth_date=date(1939, 9, 9),
            phone="",
            no_phone=True,
            categories=[CategoryInput(code="D20.5.1")],
        ),
    }


def test_accent_free_name_finds_the_accented_one(people, clients):
    assert search(clients["officer_a"], "q=nguyen thi anh") == ["Nguyễn Thị Ánh"]
    assert search(clients["officer_a"], "q=dang") == ["Đặng Thị Dung"]
    assert search(clients["officer_a"], "q=binh") == ["Trần Văn Bình"]


def test_results_are_in_vietnamese_list_order(people, clients):
    """By the given name (Ánh, Bình, Dung), not by the family name."""
    assert search(clients["officer_a"]) == ["Nguyễn Thị Ánh", "Trần Văn Bình", "Đặng Thị Dung"]


def test_search_by_cccd_or_phone_in_q_and_fields(people, clients):
    anh = people["anh"]
    client = clients["officer_a"]
    assert search(client, f"q={anh.cccd}") == ["Nguyễn Thị Ánh"]
    assert search(client, "q=0903 000 111") == ["Trần Văn Bình"]
    assert search(client, f"cccd={anh.cccd}") == ["Nguyễn Thị Ánh"]
    assert search(client, "phone=%2B84903000111") == ["Trần Văn Bình"]


def test_search_filters(people, clients, tree):
    client = clients["officer_a"]
    assert search(client, f"area={tree.village_a.pk}") == ["Nguyễn Thị Ánh", "Đặng Thị Dung"]
    assert search(client, f"area={tree.a.pk}") == ["Nguyễn Thị Ánh", "Trần Văn Bình", "Đặng Thị Dung"]
    assert search(client, f"area={tree.b.pk}") == []  # not in the officer's areas
    assert search(client, "category=D20.5.1") == ["Đặng Thị Dung"]
    assert search(client, "needs=frail") == ["Nguyễn Thị Ánh", "Trần Văn Bình"]
    assert search(client, "needs=frail&needs=cannot_travel") == ["Trần Văn Bình"]
    assert search(client, "status=stopped") == []
    assert search(client, "status=active&q=nguyen") == ["Nguyễn Thị Ánh"]


def test_issues_filter(register, clients):
    register(full_name="Hồ Văn Giàu", birth_date=date(1944, 4, 4), gender="male", cccd="", phone="0912000333")
    register(full_name="Mai Thị Hạnh", birth_date=date(1944, 4, 5), cccd="089144000999", phone="0912000444")
    assert search(clients["officer_a"], "issues=true") == ["Hồ Văn Giàu"]  # no CCCD is a data-quality issue


def test_search_of_officer_b_sees_nothing_of_a(people, clients):
    assert search(clients["officer_b"]) == []
    assert search(clients["officer_b"], "q=nguyen thi anh") == []


def test_pagination(register, clients):
    for i in range(5):
        register(
            full_name=f"Nguyễn Văn Số {chr(ord('A') + i)}",
            birth_date=date(1940, 1, 1 + i),
            gender="male",
            cccd=cccd_for(date(1940, 1, 1 + i), "male", tail=f"00000{i}"),
            phone="",
        )
    response = clients["officer_a"].get("/api/v1/beneficiaries?page=2&page_size=2").json()
    assert (response["count"], response["page"], response["pages"]) == (5, 2, 3)
    assert (response["count_exact"], response["has_next"]) == (True, True)
    assert [i["full_name"] for i in response["items"]] == ["Nguyễn Văn Số C", "Nguyễn Văn Số D"]
    assert clients["officer_a"].get("/api/v1/beneficiaries?page=9&page_size=2").json()["items"] == []


def test_full_name_prefix_comes_before_a_later_word(register, clients):
    for i, name in enumerate(["Lê Nguyễn Văn An", "Nguyễn Văn Bình", "Trần Văn Nguyễn", "Nguyễn Thị Cúc"]):
        birth = date(1940, 2, 1 + i)
        register(full_name=name, birth_date=birth, gender="male", cccd=cccd_for(birth, "male", f"10000{i}"), phone="")
    response = clients["officer_a"].get("/api/v1/beneficiaries?q=nguyen").json()
    assert [i["full_name"] for i in response["items"]] == [
        "Nguyễn Thị Cúc",
        "Nguyễn Văn Bình",
        "Lê Nguyễn Văn An",
        "Trần Văn Nguyễn",
    ]
    assert (response["count"], response["count_exact"], response["has_next"]) == (4, True, False)


def test_count_stops_at_the_cap_and_says_so(register, clients, monkeypatch):
    from ansinh.registry import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    for i in range(5):
        birth = date(1940, 1, 1 + i)
        register(
            full_name=f"Nguyễn Văn Số {chr(ord('A') + i)}",
            birth_date=birth,
            gender="male",
            cccd=cccd_for(birth, "male", f"00000{i}"),
            phone="",
        )
    client = clients["officer_a"]
    first = client.get("/api/v1/beneficiaries?page_size=2").json()
    assert (first["count"], first["count_exact"], first["pages"], first["has_next"]) == (3, False, 2, True)
    # only the counted window is paged through (as in the web list): page 2 ends at the cap
    second = client.get("/api/v1/beneficiaries?page=2&page_size=2").json()
    assert [i["full_name"] for i in second["items"]] == ["Nguyễn Văn Số C"]
    assert (second["count_exact"], second["has_next"]) == (False, False)
    assert client.get("/api/v1/beneficiaries?page=3&page_size=2").json()["items"] == []
    assert client.get("/api/v1/beneficiaries?q=nguyen van so&page=4&page_size=2").json()["items"] == []
    small = client.get("/api/v1/beneficiaries?q=nguyen van so a").json()
    assert (small["count"], small["count_exact"], small["pages"]) == (1, True, 1)


def test_openapi_describes_the_capped_count(client):
    page = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["BeneficiaryPage"]
    assert {"count", "count_exact", "pages", "has_next"} <= set(page["required"])
    assert page["properties"]["count_exact"]["type"] == "boolean"


@pytest.mark.parametrize("query", ["page_size=201", "page=0", "status=dead", "needs=rich"])
def test_bad_search_parameters_are_422(query, clients, policy):
    response = clients["officer_a"].get(f"/api/v1/beneficiaries?{query}")
    assert response.status_code == 422
    assert all(e["loc"][0] == "query" and e["msg"] for e in response.json()["detail"])


def test_list_query_count_is_bounded(register, clients, django_assert_max_num_queries, tree):
    client = clients["officer_a"]
    client.get("/api/v1/me")  # token last-used stamp written once
    register(full_name="Nguyễn Thị Ánh", birth_date=date(1950, 5, 17))
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/v1/beneficiaries?area={tree.a.pk}").json()["count"] == 1
    for i in range(12):
        birth = date(1930 + i, 3, 3)
        register(
            full_name=f"Lý Văn {chr(ord('A') + i)}",
            birth_date=birth,
            gender="male",
            cccd=cccd_for(birth, "male"),
            phone="",
        )
    with django_assert_max_num_queries(6):
        data = client.get(f"/api/v1/beneficiaries?area={tree.a.pk}").json()
    assert data["count"] == 13
    assert all(item["categories"] for item in data["items"])


# --- API plumbing ---------------------------------------------------------------------------


def test_openapi_lists_the_registry_paths(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/beneficiaries",
        "/api/v1/beneficiaries/{beneficiary_id}",
        "/api/v1/beneficiaries/{beneficiary_id}/decisions",
        "/api/v1/beneficiaries/{beneficiary_id}/representatives",
        "/api/v1/beneficiaries/{beneficiary_id}/payee",
        "/api/v1/beneficiaries/{beneficiary_id}/representatives/{representation_id}",
    ):
        assert path in paths
    assert {"get", "post"} <= set(paths["/api/v1/beneficiaries"])
    assert {"get", "patch"} <= set(paths["/api/v1/beneficiaries/{beneficiary_id}"])


def test_revoked_token_is_401(beneficiary, officer_a):
    from django.test import Client

    token, raw = create_api_token(actor=None, user=officer_a)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(f"/api/v1/beneficiaries/{beneficiary.pk}").status_code == 200
    revoke_api_token(actor=None, token=token)
    assert client.get(f"/api/v1/beneficiaries/{beneficiary.pk}").status_code == 401
    assert client.get("/api/v1/beneficiaries").status_code == 401


def test_no_token_is_401(client, beneficiary):
    assert client.get("/api/v1/beneficiaries").status_code == 401
    assert client.post("/api/v1/beneficiaries", {}, JSON).status_code == 401


def test_api_docs_load_swagger_from_our_own_static_files(client):
    body = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in body
    assert "cdn." not in body and "https://" not in body.split("<body", 1)[0]
