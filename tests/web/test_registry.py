"""The registry pages: list and live search, XLSX export, detail, registration and corrections,
decisions and representatives — each view with the three personas (officer_a acts, viewer_a
reads but gets 403 on writes, officer_b gets 404 on everything of A) and anonymous users."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from ansinh.audit.models import AuditEvent
from ansinh.core.text import search_key
from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import (
    Beneficiary,
    BeneficiaryCategory,
    Decision,
    Representation,
    Representative,
    Status,
    StatusChange,
)
from ansinh.web.forms_registry import beneficiary_initial
from tests.factories import cccd_for

HX = {"HTTP_HX_REQUEST": "true"}
GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Em",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hoa",
    "Hùng",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Minh",
    "Nam",
    "Ngọc",
    "Nhung",
    "Phúc",
    "Quang",
    "Quyên",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thu",
    "Trang",
    "Tuấn",
    "Vy",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def register(tree, policy, officer_a):
    """register(**overrides) -> a beneficiary of commune A created through the service."""

    def _register(representatives=(), **overrides):
        birth = overrides.pop("birth_date", date(1950, 5, 17))
        gender = overrides.pop("gender", "female")
        data = BeneficiaryInput(
            full_name=overrides.pop("full_name", "Nguyễn Thị Ánh"),
            birth_date=birth,
            gender=gender,
            commune_id=overrides.pop("commune_id", tree.a.pk),
            village_id=overrides.pop("village_id", tree.village_a.pk),
            cccd=overrides.pop("cccd", cccd_for(birth, gender)),
            phone=overrides.pop("phone", "0912345678"),
            categories=overrides.pop("categories", [CategoryInput(code="D20.5.6", condition="severe:adult")]),
            decision_number=overrides.pop("decision_number", "15/QĐ-UBND"),
            decision_date=overrides.pop("decision_date", date(2025, 1, 10)),
            representatives=list(representatives),
            **overrides,
        )
        return services.create_beneficiary(actor=officer_a, data=data, accept_duplicate=True)

    return _register


@pytest.fixture
def guardian():
    return RepresentationInput(
        person=PersonInput(
            full_name="Trần Văn Bình",
            birth_date=date(1975, 3, 2),
            gender="male",
            cccd=cccd_for(date(1975, 3, 2), "male", "777777"),
        ),
        kind="guardian",
        relationship="con",
        is_payee=True,
    )


@pytest.fixture
def ben(register, guardian):
    """Nguyễn Thị Ánh of commune A with a guardian who is the payee."""
    return register(representatives=[guardian])


@pytest.fixture
def ben_b(register, tree, officer_b):
    return register(
        full_name="Phạm Văn Đức",
        birth_date=date(1945, 1, 1),
        gender="male",
        commune_id=tree.b.pk,
        village_id=None,
        cccd=cccd_for(date(1945, 1, 1), "male", "000111"),
    )


def url(name, *args):
    return reverse(f"registry:{name}", args=args)


def new_form(tree, **overrides) -> dict:
    birth = overrides.pop("birth_date", "1948-02-03")
    gender = overrides.pop("gender", "male")
    data = {
        "commune": tree.a.pk,
        "village": tree.village_a.pk,
        "full_name": "Lê Văn Cường",
        "birth_date": birth,
        "gender": gender,
        "cccd": cccd_for(date.fromisoformat(birth), gender, tail="654321"),
        "phone": "0987 654 321",
        "ethnicity": "Kinh",
        "address": "Số 3, đường Lê Lợi",
        "cannot_travel": "on",
        "decision_number": "21/QĐ-UBND",
        "decision_date": "2025-06-05",
        "start_month": "2025-07",
        "cat-TOTAL_FORMS": "2",
        "cat-INITIAL_FORMS": "0",
        "cat-MIN_NUM_FORMS": "0",
        "cat-MAX_NUM_FORMS": "5",
        "cat-0-entitlement": "D20.5.6|severe:adult|",
        "cat-0-units": "1",
        "cat-1-entitlement": "",
        "cat-1-units": "1",
    }
    data.update(overrides)
    return data


def decision_form(**overrides) -> dict:
    data = {
        "kind": "suspend",
        "number": "30/QĐ-UBND",
        "signed_on": "2026-03-04",
        "effective_month": "2026-04",
        "reason": "",
        "death_date": "",
        "event_date": "",
        "backdating_reason": "",
        "to_commune": "",
        "note": "",
        "cat-TOTAL_FORMS": "1",
        "cat-INITIAL_FORMS": "0",
        "cat-MIN_NUM_FORMS": "0",
        "cat-MAX_NUM_FORMS": "5",
        "cat-0-entitlement": "",
        "cat-0-units": "1",
    }
    data.update(overrides)
    return data


def rep_form(**overrides) -> dict:
    data = {
        "full_name": "Lê Thị Hoa",
        "birth_date": "1980-07-09",
        "gender": "female",
        "cccd": cccd_for(date(1980, 7, 9), "female", "555555"),
        "phone": "0903 123 456",
        "kind": "authorised",
        "relationship": "cháu",
        "document_number": "12/GUQ",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }
    data.update(overrides)
    return data


# --- every view × the personas ---------------------------------------------------------------

# name: (method, url builder, body builder, expected status for officer_a, viewer_a, officer_b)
VIEWS = {
    "detail": ("get", lambda b, link: url("detail", b.pk), None, (200, 200, 404)),
    "edit_form": ("get", lambda b, link: url("edit", b.pk), None, (200, 403, 404)),
    "edit": ("post", lambda b, link: url("edit", b.pk), "edit", (302, 403, 404)),
    "decision_form": ("get", lambda b, link: url("decision", b.pk), None, (200, 403, 404)),
    "decision": ("post", lambda b, link: url("decision", b.pk), "decision", (302, 403, 404)),
    "rep_form": ("get", lambda b, link: url("representative_add", b.pk), None, (200, 403, 404)),
    "rep_add": ("post", lambda b, link: url("representative_add", b.pk), "rep", (302, 403, 404)),
    "payee": ("post", lambda b, link: url("payee", b.pk), "payee", (302, 403, 404)),
    "end_form": ("get", lambda b, link: url("representative_end", b.pk, link.pk), None, (200, 403, 404)),
    "end": ("post", lambda b, link: url("representative_end", b.pk, link.pk), "empty", (302, 403, 404)),
}


def _edit_body(b, **overrides) -> dict:
    """The edit form as it comes filled in for `b`, with some fields changed."""
    data = {k: v for k, v in beneficiary_initial(b).items() if v not in (None, False)}
    data = {k: ("on" if v is True else v) for k, v in data.items()}
    data["birth_date"] = b.birth_date.isoformat()
    data.update(overrides)
    return data


def _body(kind, b, tree):
    return {
        None: None,
        "empty": {},
        "edit": _edit_body(b, phone="0903 999 888"),
        "decision": decision_form(),
        "rep": rep_form(),
        "payee": {"representation": ""},
    }[kind]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("persona_index,persona", list(enumerate(["officer_a", "viewer_a", "officer_b"])))
def test_each_view_answers_each_persona(view, persona_index, persona, ben, personas, client_for, tree):
    method, build, body, expected = VIEWS[view]
    link = Representation.objects.get(beneficiary=ben)
    before = (AuditEvent.objects.count(), Decision.objects.count(), Representation.objects.count())
    client = client_for(personas[persona])
    data = _body(body, ben, tree)
    response = client.post(build(ben, link), data) if method == "post" else client.get(build(ben, link))
    assert response.status_code == expected[persona_index], (
        getattr(response, "context", None) and response.context.get("form") and response.context["form"].errors
    )
    if method == "post" and response.status_code != 302:
        # refused: nothing written
        assert (AuditEvent.objects.count(), Decision.objects.count(), Representation.objects.count()) == before
    if method == "post" and response.status_code == 302:
        assert AuditEvent.objects.count() > before[0]


@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_is_sent_to_login(view, ben, client, tree):
    method, build, body, _expected = VIEWS[view]
    link = Representation.objects.get(beneficiary=ben)
    target = build(ben, link)
    response = client.post(target, _body(body, ben, tree)) if method == "post" else client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["list", "create", "export"])
def test_anonymous_is_sent_to_login_on_list_create_export(name, client, db):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_viewer_cannot_open_the_registration_form(client_for, viewer_a, policy):
    assert client_for(viewer_a).get(url("create")).status_code == 403
    assert client_for(viewer_a).post(url("create"), {}).status_code == 403


def test_navigation_shows_beneficiaries_to_registry_users(client_for, officer_a, viewer_a):
    body = client_for(officer_a).get(reverse("dashboard")).content.decode()
    assert f'href="{url("list")}"' in body


# --- list and search ---------------------------------------------------------------------------


def test_officer_a_lists_the_beneficiary_with_full_cccd_and_payee(client_for, officer_a, ben):
    response = client_for(officer_a).get(url("list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-beneficiary="{ben.pk}"' in body
    assert ben.cccd in body
    assert "Trần Văn Bình" in body  # the payee
    assert "D20.5.6" in body


def test_viewer_sees_the_cccd_masked(client_for, viewer_a, ben):
    body = client_for(viewer_a).get(url("list")).content.decode()
    assert f'data-beneficiary="{ben.pk}"' in body
    assert ben.cccd not in body
    assert ben.masked_cccd in body


def test_officer_b_lists_nothing_of_a(client_for, officer_b, ben, ben_b):
    body = client_for(officer_b).get(url("list")).content.decode()
    assert f'data-beneficiary="{ben_b.pk}"' in body
    assert f'data-beneficiary="{ben.pk}"' not in body
    assert "Nguyễn Thị Ánh" not in body


def test_search_without_diacritics_cccd_and_phone(client_for, officer_a, ben, register):
    other = register(
        full_name="Võ Văn Kiệt",
        birth_date=date(1944, 2, 2),
        gender="male",
        cccd=cccd_for(date(1944, 2, 2), "male", "222333"),
        phone="0977000111",
    )
    client = client_for(officer_a)
    for q in ("nguyen thi anh", "thi anh", "Nguyễn", "ANH", ben.cccd, "0912 345 678"):
        body = client.get(url("list"), {"q": q}).content.decode()
        assert f'data-beneficiary="{ben.pk}"' in body, q
        assert f'data-beneficiary="{other.pk}"' not in body, q
    body = client.get(url("list"), {"q": "kiet"}).content.decode()
    assert f'data-beneficiary="{other.pk}"' in body
    assert f'data-beneficiary="{ben.pk}"' not in body


def test_htmx_search_returns_only_the_results(client_for, officer_a, ben):
    response = client_for(officer_a).get(url("list"), {"q": "nguyen"}, **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body
    assert f'data-beneficiary="{ben.pk}"' in body
    assert "HX-Request" in response["Vary"]
    # the export link follows the current search
    assert f"{url('export')}?q=nguyen" in body


def test_filters(client_for, officer_a, ben, register, tree):
    plain = register(
        full_name="Đỗ Văn Tám",
        birth_date=date(1940, 8, 8),
        gender="male",
        village_id=None,
        cccd="",
        categories=[CategoryInput(code="D20.5.5.c")],
        frail=True,
    )
    client = client_for(officer_a)

    def ids(**params):
        response = client.get(url("list"), params)
        assert response.status_code == 200
        return {b.pk for b, _full, _cats in response.context["rows"]}

    assert ids() == {ben.pk, plain.pk}
    assert ids(area=tree.village_a.pk) == {ben.pk}
    assert ids(area=tree.a.pk) == {ben.pk, plain.pk}
    assert ids(category="D20.5.5.c") == {plain.pk}
    assert ids(needs="frail") == {plain.pk}
    assert ids(issues="on") == {plain.pk}  # no CCCD: a data-quality warning
    services.record_decision(actor=None, beneficiary=ben, kind="suspend", number="1/QĐ", signed_on=date(2026, 1, 5))
    assert ids(status="suspended") == {ben.pk}
    assert ids(status="active") == {plain.pk}


def test_a_filter_outside_the_users_areas_lists_nothing(client_for, officer_b, ben, ben_b, tree):
    response = client_for(officer_b).get(url("list"), {"area": tree.a.pk})
    assert response.status_code == 200
    assert response.context["rows"] == []


def test_list_is_paginated(client_for, officer_a, register):
    for i in range(30):
        birth = date(1940, 1, 1 + i % 28)
        register(
            full_name=f"Nguyễn Văn {GIVEN[i]}",
            birth_date=birth,
            gender="male",
            cccd=cccd_for(birth, "male", f"{i:06d}"),
        )
    client = client_for(officer_a)
    first = client.get(url("list")).context
    assert first["page"].paginator.count == 30
    assert len(first["rows"]) == 25
    assert len(client.get(url("list"), {"page": 2}).context["rows"]) == 5


def test_list_count_stops_at_the_cap(client_for, officer_a, register, monkeypatch):
    from ansinh.registry import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    for i in range(30):
        birth = date(1940, 1, 1 + i % 28)
        register(
            full_name=f"Nguyễn Văn {GIVEN[i]}",
            birth_date=birth,
            gender="male",
            cccd=cccd_for(birth, "male", f"{i:06d}"),
        )
    client = client_for(officer_a)
    response = client.get(url("list"))
    page = response.context["page"]
    assert (page.paginator.count, page.paginator.count_exact) == (3, False)
    assert len(response.context["rows"]) == 3  # only the first `cap` rows are paged through
    html = response.content.decode()
    assert 'data-count="3" data-count-exact="false"' in html and 'data-pagination="capped"' in html
    # under the cap, the exact count and the usual pagination
    narrow = client.get(url("list"), {"q": f"nguyen van {search_key(GIVEN[0])}"}, **HX)
    assert narrow.context["page"].paginator.count_exact is True
    assert 'data-count-exact="true"' in narrow.content.decode()


def test_list_pages_through_the_capped_rows(client_for, officer_a, register, monkeypatch):
    from ansinh.registry import queries
    from ansinh.web.views import registry as views

    monkeypatch.setattr(queries, "COUNT_CAP", 4)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(6):
        birth = date(1940, 1, 1 + i)
        register(full_name=f"Lê Thị {GIVEN[i]}", birth_date=birth, cccd=cccd_for(birth, "female", f"{i:06d}"))
    client = client_for(officer_a)
    first = client.get(url("list"), **HX)
    assert 'data-pagination="capped"' in first.content.decode() and 'rel="next"' in first.content.decode()
    second = client.get(url("list"), {"page": 2}, **HX)
    assert [b.full_name for b, _cccd, _cats in second.context["rows"]] == [
        b.full_name for b in Beneficiary.objects.order_by("sort_key", "id")[2:4]
    ]
    assert 'rel="next"' not in second.content.decode()  # the cap is the end of the pages here


def test_list_ranks_full_name_prefix_first(client_for, officer_a, register):
    for i, name in enumerate(["Lê An Bình", "An Văn Cường", "Trần Thị An"]):
        birth = date(1941, 3, 1 + i)
        register(full_name=name, birth_date=birth, cccd=cccd_for(birth, "female", f"{i:06d}"))
    rows = client_for(officer_a).get(url("list"), {"q": "an"}, **HX).context["rows"]
    assert [b.full_name for b, _cccd, _cats in rows] == ["An Văn Cường", "Lê An Bình", "Trần Thị An"]


def test_list_query_count_does_not_grow_with_rows(
    client_for, officer_a, register, guardian, django_assert_max_num_queries
):
    for i in range(20):
        birth = date(1940, 1, 1 + i)
        rep = RepresentationInput(
            person=PersonInput(
                full_name=f"Lê Văn {GIVEN[i]}",
                cccd=cccd_for(date(1970, 1, 1), "male", f"9{i:05d}"),
                birth_date=date(1970, 1, 1),
                gender="male",
            ),
            kind="authorised",
            is_payee=True,
        )
        register(
            full_name=f"Trần Thị {GIVEN[i]}",
            birth_date=birth,
            cccd=cccd_for(birth, "female", f"{i:06d}"),
            representatives=[rep],
        )
    client = client_for(officer_a)
    client.get(url("list"))  # warm the session
    with django_assert_max_num_queries(15):  # 14 + the count of people moving in (full page only)
        response = client.get(url("list"))
    assert len(response.context["rows"]) == 20
    with django_assert_max_num_queries(14):
        client.get(url("list"), {"q": "tran thi"}, **HX)


# --- export ------------------------------------------------------------------------------------


def _sheet_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="danh-sach-doi-tuong-')
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    return rows[next(i for i, r in enumerate(rows) if r[0] == "STT") :]  # from the header, under the title block


def test_export_of_the_filtered_list(client_for, officer_a, ben, register):
    register(
        full_name="Võ Văn Kiệt",
        birth_date=date(1944, 2, 2),
        gender="male",
        cccd=cccd_for(date(1944, 2, 2), "male", "222333"),
    )
    rows = _sheet_rows(client_for(officer_a).get(url("export"), {"q": "nguyen thi"}))
    header, data = rows[0], [r for r in rows[1:] if any(r)]
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=False))
    assert row["Họ và tên"] == "Nguyễn Thị Ánh"
    assert row["Số CCCD"] == ben.cccd  # the officer may see it
    assert row["Người nhận thay"] == "Trần Văn Bình"
    assert row["Đối tượng"] == "Người khuyết tật nặng, người khuyết tật đặc biệt nặng"  # the name, not D20.5.6
    rows = _sheet_rows(client_for(officer_a).get(url("export")))
    assert len([r for r in rows[1:] if any(r)]) == 2


def test_export_masks_the_cccd_for_the_viewer(client_for, viewer_a, ben):
    rows = _sheet_rows(client_for(viewer_a).get(url("export")))
    cells = [c for r in rows for c in r if c]
    assert "Nguyễn Thị Ánh" in cells
    assert ben.cccd not in cells
    assert ben.masked_cccd in cells


def test_export_of_officer_b_contains_none_of_a(client_for, officer_b, ben, ben_b, tree):
    for params in ({}, {"q": "nguyen"}, {"area": tree.a.pk}):
        rows = _sheet_rows(client_for(officer_b).get(url("export"), params))
        cells = [c for r in rows for c in r if c]
        assert "Nguyễn Thị Ánh" not in cells
        assert ben.cccd not in cells
    assert "Phạm Văn Đức" in [c for r in _sheet_rows(client_for(officer_b).get(url("export"))) for c in r]


# --- detail ------------------------------------------------------------------------------------


def test_detail_shows_data_history_decisions_representatives_and_audit(client_for, officer_a, ben):
    response = client_for(officer_a).get(url("detail", ben.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert ben.cccd in body
    assert 'data-category="D20.5.6"' in body
    assert 'data-decision="start"' in body
    assert 'data-section="status-history"' in body
    assert "Trần Văn Bình" in body and 'data-action="make-payee"' not in body  # already the payee
    assert 'id="history"' in body
    assert 'data-action="registry.beneficiary.created"' in body
    assert 'data-action="registry.representation.saved"' in body
    assert f'href="{url("edit", ben.pk)}"' in body
    assert f'href="{url("decision", ben.pk)}"' in body
    ent = response.context["entitlement"]
    assert ent is not None and ent["result"].amount > 0
    assert f'data-entitlement="{ent["result"].amount}"' in body


def test_viewer_sees_detail_masked_and_without_actions(client_for, viewer_a, ben):
    body = client_for(viewer_a).get(url("detail", ben.pk)).content.decode()
    assert ben.cccd not in body
    assert ben.masked_cccd in body
    assert url("edit", ben.pk) not in body
    assert url("decision", ben.pk) not in body
    assert url("representative_add", ben.pk) not in body
    assert url("payee", ben.pk) not in body


def test_detail_pages_have_no_inline_script_or_style(client_for, officer_a, ben):
    client = client_for(officer_a)
    link = Representation.objects.get(beneficiary=ben)
    for target in [
        url("list"),
        url("create"),
        url("detail", ben.pk),
        url("edit", ben.pk),
        url("decision", ben.pk),
        url("representative_add", ben.pk),
        url("representative_end", ben.pk, link.pk),
    ]:
        body = client.get(target).content.decode()
        assert "style=" not in body, target
        for chunk in body.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), target


# --- create ------------------------------------------------------------------------------------


def test_officer_a_registers_a_beneficiary(client_for, officer_a, tree, policy):
    response = client_for(officer_a).post(url("create"), new_form(tree))
    b = Beneficiary.objects.get(full_name="Lê Văn Cường")
    assert response.status_code == 302
    assert response["Location"] == url("detail", b.pk)
    assert (b.commune, b.village, b.gender, b.phone) == (tree.a, tree.village_a, "male", "+84987654321")
    assert b.cannot_travel and not b.frail
    assert b.start_month == date(2025, 7, 1)
    assert b.status == Status.ACTIVE
    cat = BeneficiaryCategory.objects.get(beneficiary=b)
    assert (cat.category.code, cat.condition, cat.from_month) == ("D20.5.6", "severe:adult", date(2025, 7, 1))
    decision = Decision.objects.get(beneficiary=b)
    assert (decision.kind, decision.number, decision.signed_on) == ("start", "21/QĐ-UBND", date(2025, 6, 5))
    assert StatusChange.objects.filter(beneficiary=b, to_status="active").exists()
    event = AuditEvent.objects.get(action="registry.beneficiary.created", object_id=str(b.pk))
    assert event.actor == officer_a


def test_cccd_contradicting_the_birth_year_is_refused_at_the_field(client_for, officer_a, tree, policy):
    before = (Beneficiary.objects.count(), AuditEvent.objects.count())
    wrong = cccd_for(date(1958, 2, 3), "male", "654321")  # digits 5-6 say 58, born 1948
    response = client_for(officer_a).post(url("create"), new_form(tree, cccd=wrong))
    assert response.status_code == 422
    form = response.context["form"]
    assert list(form.errors) == ["cccd"]
    assert "48" in form.errors["cccd"][0]
    body = response.content.decode()
    assert 'id="id_cccd_error"' in body
    assert 'class="form-control is-invalid"' in body
    assert (Beneficiary.objects.count(), AuditEvent.objects.count()) == before


def test_other_field_errors_come_back_at_their_fields(client_for, officer_a, tree, policy):
    response = client_for(officer_a).post(
        url("create"),
        new_form(tree, phone="12345", birth_date="2099-01-01", **{"cat-0-entitlement": ""}),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "phone" in errors and "birth_date" in errors
    assert response.context["category_errors"]
    assert not Beneficiary.objects.exists()


def test_likely_duplicate_needs_save_anyway(client_for, officer_a, ben, tree):
    client = client_for(officer_a)
    data = new_form(
        tree,
        full_name="Nguyen thi anh",
        birth_date="1950-05-17",
        gender="female",
        cccd=cccd_for(date(1950, 5, 17), "female", "999000"),
    )
    response = client.post(url("create"), data)
    assert response.status_code == 422
    assert response.context["duplicate"]
    assert 'data-state="duplicate"' in response.content.decode()
    assert 'name="accept_duplicate"' in response.content.decode()
    assert Beneficiary.objects.count() == 1
    response = client.post(url("create"), {**data, "accept_duplicate": "on"})
    assert response.status_code == 302
    assert Beneficiary.objects.count() == 2
    assert Beneficiary.objects.get(cccd=data["cccd"]).has_issues


def test_officer_cannot_register_in_another_commune(client_for, officer_b, tree, policy):
    response = client_for(officer_b).post(url("create"), new_form(tree))
    assert response.status_code == 422
    assert "commune" in response.context["form"].errors
    assert not Beneficiary.objects.exists()


def test_registration_form_offers_only_own_communes(client_for, officer_a, tree, policy):
    body = client_for(officer_a).get(url("create")).content.decode()
    assert f'<option value="{tree.a.pk}" selected>' in body
    assert f'value="{tree.b.pk}"' not in body
    assert "D20.5.6|severe:adult|" in body


# --- edit --------------------------------------------------------------------------------------


def test_edit_corrects_the_phone_and_is_audited(client_for, officer_a, ben, tree):
    data = _body("edit", ben, tree)
    response = client_for(officer_a).post(url("edit", ben.pk), data)
    assert response.status_code == 302
    ben.refresh_from_db()
    assert ben.phone == "+84903999888"
    event = AuditEvent.objects.get(action="registry.beneficiary.updated", object_id=str(ben.pk))
    assert event.after == {"phone": "+84903999888"}


def test_edit_errors_are_at_the_fields_and_nothing_changes(client_for, officer_a, ben, tree):
    data = {**_body("edit", ben, tree), "cccd": cccd_for(date(1951, 5, 17), "female", "012345")}
    response = client_for(officer_a).post(url("edit", ben.pk), data)
    assert response.status_code == 422
    assert "cccd" in response.context["form"].errors
    ben.refresh_from_db()
    assert ben.phone == "+84912345678"
    assert not AuditEvent.objects.filter(action="registry.beneficiary.updated").exists()


def test_edit_cannot_move_the_commune(client_for, officer_a, ben, tree):
    data = {**_body("edit", ben, tree), "commune": tree.b.pk, "village": ""}
    client_for(officer_a).post(url("edit", ben.pk), data)
    ben.refresh_from_db()
    assert ben.commune_id == tree.a.pk


# --- decisions ---------------------------------------------------------------------------------


def test_suspend_then_resume(client_for, officer_a, ben):
    client = client_for(officer_a)
    assert client.post(url("decision", ben.pk), decision_form()).status_code == 302
    ben.refresh_from_db()
    assert ben.status == Status.SUSPENDED
    change = StatusChange.objects.filter(beneficiary=ben).latest("id")
    assert (change.to_status, change.effective_month) == ("suspended", date(2026, 4, 1))
    assert AuditEvent.objects.filter(action="registry.decision.suspend", object_id=str(ben.pk)).exists()
    response = client.post(
        url("decision", ben.pk), decision_form(kind="resume", number="31/QĐ", effective_month="2026-06")
    )
    assert response.status_code == 302
    ben.refresh_from_db()
    assert ben.status == Status.ACTIVE


def test_invalid_transition_is_a_form_error(client_for, officer_a, ben):
    response = client_for(officer_a).post(url("decision", ben.pk), decision_form(kind="resume"))
    assert response.status_code == 422
    assert response.context["form"].non_field_errors()
    assert Decision.objects.filter(beneficiary=ben).count() == 1


def test_stop_on_death_needs_the_date_and_takes_effect_the_month_after(client_for, officer_a, ben):
    client = client_for(officer_a)
    response = client.post(url("decision", ben.pk), decision_form(kind="stop", reason="died", number=""))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "death_date" in errors and "number" in errors
    ben.refresh_from_db()
    assert ben.status == Status.ACTIVE
    response = client.post(url("decision", ben.pk), decision_form(kind="stop", reason="died", death_date="2026-02-14"))
    assert response.status_code == 302
    ben.refresh_from_db()
    assert (ben.status, ben.stop_reason, ben.death_date) == ("stopped", "died", date(2026, 2, 14))
    assert ben.end_month == date(2026, 2, 1)
    assert Decision.objects.filter(beneficiary=ben, kind="stop").get().effective_month == date(2026, 3, 1)


def test_move_is_stopped_here_and_continued_by_the_new_commune(client, client_for, officer_a, officer_b, ben, tree):
    response = client_for(officer_a).post(
        url("decision", ben.pk), decision_form(kind="move", to_commune=tree.b.pk, event_date="2026-02-20")
    )
    assert response.status_code == 302
    ben.refresh_from_db()
    assert (ben.status, ben.stop_reason, ben.commune_id, ben.end_month) == (
        "stopped",
        "moved",
        tree.a.pk,
        date(2026, 2, 1),
    )
    # the new commune sees the person only as a move to receive: name, year, masked CCCD
    b_client = client_for(officer_b)
    assert b_client.get(url("detail", ben.pk)).status_code == 404
    assert 'data-action="moves"' in b_client.get(url("list")).content.decode()  # the list points to it
    page = b_client.get(url("moves"))
    assert ben.full_name in page.content.decode() and ben.cccd not in page.content.decode()
    move = Decision.objects.get(beneficiary=ben, kind="move")
    form = {"number": "", "signed_on": "2026-03-10", "village": "", "note": ""}
    assert b_client.post(url("move_accept", move.pk), form).status_code == 422
    response = b_client.post(url("move_accept", move.pk), {**form, "number": "7/QĐ-UBND"})
    assert response.status_code == 302
    ben.refresh_from_db()
    assert (ben.status, ben.commune_id, ben.village_id) == ("active", tree.b.pk, None)
    start = Decision.objects.get(beneficiary=ben, follows=move)
    assert start.effective_month == date(2026, 3, 1)
    assert client_for(officer_b).get(url("detail", ben.pk)).status_code == 200
    assert client_for(officer_a).get(url("detail", ben.pk)).status_code == 404


def test_move_without_a_commune_is_a_field_error(client_for, officer_a, ben):
    response = client_for(officer_a).post(url("decision", ben.pk), decision_form(kind="move"))
    assert response.status_code == 422
    assert "to_commune" in response.context["form"].errors


def test_adjust_replaces_the_categories_from_the_month(client_for, officer_a, ben):
    data = decision_form(
        kind="adjust", event_date="2026-03-02", **{"cat-0-entitlement": "D20.5.6|extremely_severe:adult|"}
    )
    assert client_for(officer_a).post(url("decision", ben.pk), data).status_code == 302
    current = BeneficiaryCategory.objects.get(beneficiary=ben, to_month__isnull=True)
    assert (current.condition, current.from_month) == ("extremely_severe:adult", date(2026, 4, 1))
    old = BeneficiaryCategory.objects.get(beneficiary=ben, condition="severe:adult")
    assert old.to_month == date(2026, 3, 1)


def test_adjust_without_categories_is_an_error(client_for, officer_a, ben):
    response = client_for(officer_a).post(url("decision", ben.pk), decision_form(kind="adjust"))
    assert response.status_code == 422
    assert response.context["category_errors"]


# --- representatives ---------------------------------------------------------------------------


def test_add_a_representative_as_payee(client_for, officer_a, ben):
    response = client_for(officer_a).post(url("representative_add", ben.pk), rep_form(is_payee="on"))
    assert response.status_code == 302
    link = Representation.objects.get(beneficiary=ben, representative__full_name="Lê Thị Hoa")
    assert (link.kind, link.relationship, link.document_number) == ("authorised", "cháu", "12/GUQ")
    assert (link.valid_from, link.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert link.is_payee
    assert not Representation.objects.get(beneficiary=ben, representative__full_name="Trần Văn Bình").is_payee
    assert Representative.objects.get(full_name="Lê Thị Hoa").phone == "+84903123456"


def test_representative_errors_are_at_the_fields(client_for, officer_a, ben):
    response = client_for(officer_a).post(
        url("representative_add", ben.pk),
        rep_form(cccd=cccd_for(date(1981, 7, 9), "female", "555555"), valid_to="2025-01-01", kind=""),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"valid_to", "kind"} <= set(errors)
    assert Representation.objects.filter(beneficiary=ben).count() == 1
    response = client_for(officer_a).post(
        url("representative_add", ben.pk), rep_form(cccd=cccd_for(date(1981, 7, 9), "female", "555555"))
    )
    assert response.status_code == 422
    assert "cccd" in response.context["form"].errors
    assert not Representative.objects.filter(full_name="Lê Thị Hoa").exists()


def test_set_payee_to_self_and_back(client_for, officer_a, ben):
    client = client_for(officer_a)
    link = Representation.objects.get(beneficiary=ben)
    assert client.post(url("payee", ben.pk), {"representation": ""}).status_code == 302
    link.refresh_from_db()
    assert not link.is_payee
    assert client.post(url("payee", ben.pk), {"representation": link.pk}).status_code == 302
    link.refresh_from_db()
    assert link.is_payee
    assert AuditEvent.objects.filter(action="registry.payee.changed", object_id=str(ben.pk)).count() == 2


def test_payee_of_another_beneficiary_is_404(client_for, officer_a, ben, register):
    other = register(
        full_name="Võ Văn Kiệt",
        birth_date=date(1944, 2, 2),
        gender="male",
        cccd=cccd_for(date(1944, 2, 2), "male", "222333"),
    )
    link = Representation.objects.get(beneficiary=ben)
    assert client_for(officer_a).post(url("payee", other.pk), {"representation": link.pk}).status_code == 404
    assert client_for(officer_a).get(url("representative_end", other.pk, link.pk)).status_code == 404


def test_end_a_representative(client_for, officer_a, ben):
    link = Representation.objects.get(beneficiary=ben)
    client = client_for(officer_a)
    assert client.get(url("representative_end", ben.pk, link.pk)).status_code == 200
    assert client.post(url("representative_end", ben.pk, link.pk)).status_code == 302
    link.refresh_from_db()
    assert link.ended_at is not None and not link.is_payee
    assert AuditEvent.objects.filter(action="registry.representation.ended", object_id=str(link.pk)).exists()
    # an ended representation cannot be ended again
    assert client.post(url("representative_end", ben.pk, link.pk)).status_code == 404


def test_hiv_categories_are_neither_offered_as_filter_nor_listed(client_for, officer_a, register):
    hiv = register(
        full_name="Lâm Văn Tài",
        birth_date=date(1980, 4, 4),
        gender="male",
        cccd=cccd_for(date(1980, 4, 4), "male", "454545"),
        categories=[CategoryInput(code="D20.5.8")],
    )
    client = client_for(officer_a)
    page = client.get(url("list")).content.decode()
    assert "D20.5.8" not in page and "D20.5.3" not in page  # neither in the filter nor in the rows
    assert f'data-beneficiary="{hiv.pk}"' in page
    filtered = client.get(url("list"), {"category": "D20.5.8"}).content.decode()
    assert f'data-beneficiary="{hiv.pk}"' not in filtered  # a hand-made filter finds nobody
