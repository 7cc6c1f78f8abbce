"""The four registration lists of the Hoằng Phong plan: who is on each, their columns in the
file and on paper, masking per role, scoping, HIV-related categories, the size limit and the
audit record."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.payments import registration_lists as rl
from tests.conftest import make_user

from .registration_world import ACCOUNT_NUMBER, build

KINDS = rl.KINDS


@pytest.fixture
def world(tree, policy, officer_a, officer_b):
    return build(tree, officer_a, officer_b)


def names(user, slug, area=None):
    kind = KINDS[slug]
    qs = rl.ordered(rl.scoped(user, kind, area))
    return [r.full_name for r in rl.rows_for(user, kind, qs, taken_away=False)]


def rows(user, slug, area=None, taken_away=False):
    kind = KINDS[slug]
    return list(rl.rows_for(user, kind, rl.ordered(rl.scoped(user, kind, area)), taken_away=taken_away))


# --- who is on each list ---------------------------------------------------------------------------


def test_people_with_meritorious_services_registering(world, officer_a):
    assert sorted(names(officer_a, "ncc")) == sorted(["Lê Văn Công", "Trần Văn Được"])


def test_social_assistance_beneficiaries_registering(world, officer_a):
    # planned account payment, and an active account paid in cash for now; not the stopped one,
    # not the one paid in cash without an account
    assert sorted(names(officer_a, "btxh")) == sorted(["Nguyễn Thị Ánh", "Đỗ Văn Hạ"])


def test_guardians_only_of_registering_beneficiaries_who_receive_or_hold_the_account(world, officer_a):
    reps = rows(officer_a, "ncc-representatives")
    assert [(r.full_name, r.beneficiary_name) for r in reps] == [("Trần Thị Giám", "Trần Văn Được")]
    assert reps[0].kind == "guardian" and reps[0].relationship == "con gái"
    assert reps[0].account_status == "pending" and reps[0].institution
    # the payee of a beneficiary who is not registering is on no list
    assert rows(officer_a, "btxh-representatives") == []


def _opening(beneficiary, status, representation=None):
    model = rl.opening_model()
    if model is None:
        pytest.skip("the account-opening app has no OpeningRequest model yet")
    from ansinh.payments.models import Institution

    return model.objects.create(
        beneficiary=beneficiary,
        representation=representation,
        commune=beneficiary.commune,
        area_path=beneficiary.area_path,
        institution=Institution.objects.get(code="VBA"),
        status=status,
    )


def test_an_opening_request_registers_the_beneficiary_and_the_representative(world, officer_a):
    _opening(world.ncc_cash, "requested")
    assert "Phạm Văn Tiền" in names(officer_a, "ncc")
    note = {r.full_name: r.note for r in rows(officer_a, "ncc")}["Phạm Văn Tiền"]
    assert note  # says the opening is in flight
    # a rejected or cancelled request does not
    _opening(world.btxh_unregistered_rep, "rejected")
    assert "Lý Thị Mặt" not in names(officer_a, "btxh")
    # a request in a representative's name puts the representative on the guardians' list
    _opening(world.ncc_guarded, "confirmed", representation=world.bystander)
    reps = {(r.full_name, r.opening) for r in rows(officer_a, "ncc-representatives")}
    assert reps == {("Trần Thị Giám", ""), ("Trần Văn Khác", "confirmed")}


def test_the_lists_of_a_village(world, officer_a, tree):
    assert sorted(names(officer_a, "ncc", tree.village_a.pk)) == ["Lê Văn Công"]


def test_another_commune_sees_nothing(world, officer_b, tree):
    for slug in KINDS:
        assert names(officer_b, slug, tree.a.pk) == []
    assert names(officer_b, "btxh") == ["Hồ Văn Bê"]


# --- masking ---------------------------------------------------------------------------------------


def test_account_numbers_in_full_only_for_those_who_may_see_them(world, officer_a, viewer_a):
    mine = {r.full_name: r for r in rows(officer_a, "ncc")}
    assert mine["Lê Văn Công"].account_number == ACCOUNT_NUMBER  # payments.view_account
    assert mine["Lê Văn Công"].cccd == world.ncc_own.cccd  # registry.view_cccd
    theirs = {r.full_name: r for r in rows(viewer_a, "ncc")}
    assert theirs["Lê Văn Công"].account_number == "•••• 2345"
    assert theirs["Lê Văn Công"].cccd.startswith("********")
    assert "x" in theirs["Lê Văn Công"].phone  # no registry.view_contact


def test_hiv_related_categories(world, officer_a, viewer_a):
    on_screen = {r.full_name: r.categories for r in rows(officer_a, "btxh")}
    assert on_screen["Đỗ Văn Hạ"]  # the officer decides under it
    assert {r.full_name: r.categories for r in rows(viewer_a, "btxh")}["Đỗ Văn Hạ"] == []
    taken_away = {r.full_name: r.categories for r in rows(officer_a, "btxh", taken_away=True)}
    assert taken_away["Đỗ Văn Hạ"] == []  # never on a list taken away


def test_notes_say_what_is_missing(world, officer_a):
    by_name = {r.full_name: r.note for r in rows(officer_a, "btxh")}
    assert "chờ xác minh" in by_name["Nguyễn Thị Ánh"] or "verification" in by_name["Nguyễn Thị Ánh"]
    guarded = {r.full_name: r for r in rows(officer_a, "ncc")}["Trần Văn Được"]
    assert guarded.account_holder == "Trần Thị Giám"


# --- the file and paper ----------------------------------------------------------------------------


def _sheet(response):
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return book


def test_the_xlsx_has_the_plans_columns_title_block_and_signatures(world, officer_a, client_for, tree):
    client = client_for(officer_a)
    response = client.get(reverse("coverage:export"), {"kind": "ncc", "area": tree.a.pk})
    assert response.status_code == 200
    book = _sheet(response)
    ws = book["Danh sách"]
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    assert values[0][0] == "UBND PHƯỜNG CHÂU PHÚ A"
    assert values[1][0].startswith("DANH SÁCH ĐỐI TƯỢNG ĐĂNG KÝ NHẬN TRỢ CẤP ƯU ĐÃI NGƯỜI CÓ CÔNG")
    header_at = next(i for i, row in enumerate(values) if row[0] == "STT")
    assert list(values[header_at][: len(rl.BENEFICIARY_HEADERS)]) == rl.BENEFICIARY_HEADERS
    data = values[header_at + 1 : header_at + 3]
    assert sorted(r[1] for r in data) == sorted(["Lê Văn Công", "Trần Văn Được"])
    flat = " ".join(str(c) for row in values for c in row if c is not None)
    assert "Người lập biểu" in flat and "CHỦ TỊCH UBND" in flat
    assert ACCOUNT_NUMBER in flat
    assert "Tổng hợp theo thôn" in book.sheetnames
    event = AuditEvent.objects.get(action="payments.registration_list.exported")
    assert event.after == {"format": "xlsx", "list": "ncc", "rows": 2}


def test_the_guardians_xlsx_names_who_they_act_for(world, officer_a, client_for, tree):
    response = client_for(officer_a).get(reverse("coverage:export"), {"kind": "ncc-representatives"})
    ws = _sheet(response)["Danh sách"]
    values = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(values) if row[0] == "STT")
    assert list(values[header_at][: len(rl.REPRESENTATIVE_HEADERS)]) == rl.REPRESENTATIVE_HEADERS
    row = values[header_at + 1]
    assert row[1] == "Trần Thị Giám" and row[6] == "Trần Văn Được" and row[5].startswith("Giám hộ")


def test_the_file_masks_for_a_monitor_and_never_names_hiv_categories(world, viewer_a, client_for, tree):
    response = client_for(viewer_a).get(reverse("coverage:export"), {"kind": "btxh"})
    assert response.status_code == 200
    flat = " ".join(
        str(c) for row in _sheet(response)["Danh sách"].iter_rows(values_only=True) for c in row if c is not None
    )
    assert "7602205088888" not in flat and "•••• 8888" in flat
    assert world.btxh_hiv.cccd not in flat
    assert "HIV" not in flat


def test_a_village_head_may_not_take_the_list_away(world, tree, client_for):
    head = make_user("head_a", Role.VILLAGE_HEAD, tree.village_a)
    client = client_for(head)
    assert client.get(reverse("coverage:export"), {"kind": "ncc"}).status_code == 403
    assert client.get(reverse("coverage:print"), {"kind": "ncc"}).status_code == 403
    page = client.get(reverse("coverage:lists"), {"kind": "ncc"})
    assert page.status_code == 200 and "Lê Văn Công" in page.content.decode()


def test_another_commune_exports_nothing_of_a(world, officer_b, client_for, tree):
    response = client_for(officer_b).get(reverse("coverage:export"), {"kind": "ncc", "area": tree.a.pk})
    flat = " ".join(
        str(c) for row in _sheet(response)["Danh sách"].iter_rows(values_only=True) for c in row if c is not None
    )
    assert "Lê Văn Công" not in flat and "Châu Phú A" not in flat


def test_the_size_limit(world, officer_a, client_for, settings):
    settings.ANSINH_EXPORT_MAX_ROWS = 1
    response = client_for(officer_a).get(reverse("coverage:export"), {"kind": "ncc"})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="payments.registration_list.exported").exists()


def test_the_print_page(world, officer_a, client_for, tree):
    response = client_for(officer_a).get(reverse("coverage:print"), {"kind": "btxh", "area": tree.a.pk})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert "Nguyễn Thị Ánh" in text and "Đỗ Văn Hạ" in text
    assert "Người lập biểu" in text or "Prepared by" in text
    assert AuditEvent.objects.get(action="payments.registration_list.printed").after["rows"] == 2


def test_the_list_page_reads_a_bounded_number_of_queries(world, officer_a, client_for, django_assert_max_num_queries):
    client = client_for(officer_a)
    client.get(reverse("coverage:lists"), {"kind": "ncc"})
    with django_assert_max_num_queries(25):
        assert client.get(reverse("coverage:lists"), {"kind": "ncc"}).status_code == 200


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_rows_are_masked_and_scoped(world, officer_a, viewer_a, officer_b, api_client_for, tree):
    got = api_client_for(officer_a).get("/api/v1/registration-lists/ncc", {"area": tree.a.pk}).json()
    assert {i["full_name"] for i in got["items"]} == {"Lê Văn Công", "Trần Văn Được"}
    assert ACCOUNT_NUMBER in {i["account_number"] for i in got["items"]}
    masked = api_client_for(viewer_a).get("/api/v1/registration-lists/ncc").json()
    assert ACCOUNT_NUMBER not in str(masked)
    hiv = api_client_for(viewer_a).get("/api/v1/registration-lists/btxh").json()
    assert [i["categories"] for i in hiv["items"] if i["full_name"] == "Đỗ Văn Hạ"] == [[]]
    outsider = api_client_for(officer_b).get("/api/v1/registration-lists/ncc", {"area": tree.a.pk})
    assert outsider.status_code == 200 and outsider.json()["items"] == []
    reps = api_client_for(officer_a).get("/api/v1/registration-lists/ncc-representatives").json()
    assert [(i["full_name"], i["beneficiary_name"]) for i in reps["items"]] == [("Trần Thị Giám", "Trần Văn Được")]
