"""Exporting the beneficiary list: who may take it away as a file (registry.export), what is
masked (CCCD, phone numbers) for whom, the size limit, the audit event of every export, and
a file streamed from disk rather than built in memory."""

import io
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.http import FileResponse
from django.urls import reverse
from openpyxl import load_workbook

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.core.text import search_key
from ansinh.registry.models import Beneficiary
from ansinh.registry.privacy import mask_phone
from tests.conftest import make_user
from tests.factories import cccd_for

pytestmark = pytest.mark.django_db
EXPORT = "registry:export"


def person(tree, name, commune, village=None, phone="+84912345678", born=date(1950, 5, 17)):
    return Beneficiary.objects.create(
        full_name=name,
        name_key=search_key(name),
        birth_date=born,
        gender="female",
        cccd=cccd_for(born, "female", str(Beneficiary.objects.count()).zfill(6)),
        phone=phone,
        commune=commune,
        village=village,
        area_path=(village or commune).path,
        start_month=date(2026, 1, 1),
    )


@pytest.fixture
def people(tree):
    return {
        "a": person(tree, "Nguyễn Thị Ánh", tree.a, tree.village_a),
        "a2": person(tree, "Lê Thị Hoa", tree.a, phone="+84987654321", born=date(1948, 1, 2)),
        "b": person(tree, "Phạm Thị Đào", tree.b, phone="+84911222333", born=date(1945, 3, 4)),
    }


def sheet(response) -> list[dict]:
    assert response.status_code == 200
    assert isinstance(response, FileResponse)  # streamed from a file, not built in memory
    assert response["Content-Disposition"].startswith('attachment; filename="danh-sach-doi-tuong-')
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "STT")  # under the title block
    return [dict(zip(rows[header], r, strict=False)) for r in rows[header + 1 :] if any(r)]


def test_mask_phone_keeps_the_first_two_and_last_three_digits():
    assert mask_phone("+84912345678") == "09xx xxx 678"
    assert mask_phone("") == ""
    assert "345" not in mask_phone("+84912345678")


@pytest.mark.parametrize("role", [Role.VILLAGE_HEAD, Role.COMMUNE_POLICE, Role.APPROVER])
def test_roles_that_only_read_the_list_may_not_export_it(role, client_for, tree, people):
    user = make_user("reader", role, tree.a)
    client = client_for(user)
    assert client.get(reverse(EXPORT)).status_code == 403
    list_page = client.get(reverse("registry:list")).content.decode()
    assert "Nguyễn Thị Ánh" in list_page  # they still read the list
    assert 'data-action="export"' not in list_page
    assert not AuditEvent.objects.filter(action="registry.exported").exists()


def test_the_commune_officer_exports_full_phones_and_the_export_is_logged(client_for, officer_a, people, tree):
    client = client_for(officer_a)
    assert 'data-action="export"' in client.get(reverse("registry:list")).content.decode()
    rows = sheet(client.get(reverse(EXPORT), {"q": "nguyen thi"}))

    assert [(r["Họ và tên"], r["Số điện thoại"], r["Số CCCD"]) for r in rows] == [
        ("Nguyễn Thị Ánh", "0912 345 678", people["a"].cccd)
    ]
    event = AuditEvent.objects.get(action="registry.exported")
    assert event.actor == officer_a
    assert event.area == tree.a  # in the commune's own log
    assert event.after == {"format": "xlsx", "rows": 1, "filters": {"q": "nguyen thi"}}


def test_the_province_monitor_exports_with_phones_and_cccds_masked(client_for, viewer_a, people):
    rows = sheet(client_for(viewer_a).get(reverse(EXPORT)))

    assert {r["Họ và tên"]: r["Số điện thoại"] for r in rows} == {
        "Nguyễn Thị Ánh": "09xx xxx 678",
        "Lê Thị Hoa": "09xx xxx 321",
    }
    cells = {c for r in rows for c in r.values()}
    assert people["a"].cccd not in cells
    assert people["a"].masked_cccd in cells
    assert AuditEvent.objects.get(action="registry.exported").after["rows"] == 2


def test_a_searched_number_is_masked_in_the_log(client_for, officer_a, people):
    sheet(client_for(officer_a).get(reverse(EXPORT), {"q": people["a"].cccd}))
    logged = AuditEvent.objects.get(action="registry.exported").after["filters"]["q"]
    assert people["a"].cccd not in logged
    assert logged.endswith(people["a"].cccd[-4:])


def test_only_the_areas_where_the_user_may_export_are_exported(client_for, officer_a, tree, people):
    """An officer of A who is also a village head in B reads both lists but exports only A's."""
    from ansinh.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=officer_a, role=Role.VILLAGE_HEAD, area=tree.b)
    client = client_for(officer_a)
    assert "Phạm Thị Đào" in client.get(reverse("registry:list")).content.decode()
    names = {r["Họ và tên"] for r in sheet(client.get(reverse(EXPORT)))}
    assert names == {"Nguyễn Thị Ánh", "Lê Thị Hoa"}
    names = {r["Họ và tên"] for r in sheet(client.get(reverse(EXPORT), {"area": tree.b.pk}))}
    assert names == set()


def test_a_list_above_the_limit_is_refused_with_the_reason(client_for, officer_a, people, settings):
    settings.ANSINH_EXPORT_MAX_ROWS = 1
    client = client_for(officer_a)

    response = client.get(reverse(EXPORT), {"status": "active"})

    assert response.status_code == 302
    assert response["Location"] == reverse("registry:list") + "?status=active"
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == (
        "Danh sách có hơn 1 đối tượng, quá nhiều cho một tệp. Hãy thu hẹp điều kiện tìm kiếm "
        "(chọn huyện, xã hoặc trạng thái) rồi xuất lại."
    )
    assert not AuditEvent.objects.filter(action="registry.exported").exists()
    # narrowed to one row, the same user gets the file
    assert len(sheet(client.get(reverse(EXPORT), {"q": "le thi"}))) == 1


def test_export_queries_do_not_grow_with_the_rows(client_for, officer_a, tree, django_assert_max_num_queries):
    for i in range(30):
        person(tree, f"Trần Thị {i}", tree.a, born=date(1940, 1, 1 + i % 28))
    client = client_for(officer_a)
    # login, roles, search form (3), capped count, one chunk of rows (3), the audit event (3)
    with django_assert_max_num_queries(18):
        assert len(sheet(client.get(reverse(EXPORT)))) == 30
