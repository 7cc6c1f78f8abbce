"""Lists on paper and in Excel: the print page holds every row (not a page of the screen) under
a title block with the unit and the date, row numbers, a signature column on request, and no
menu or form; the XLSX has the title block, row numbers and its print setup (A4 landscape,
fitted to the width, the header row repeated). Privacy holds on paper as in the file."""

import io
import re
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.core.text import search_key
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Status
from tests.conftest import make_user
from tests.factories import cccd_for

pytestmark = pytest.mark.django_db
PRINT = "registry:print"
EXPORT = "registry:export"


def person(name, commune, village=None, *, i=0, phone="+84912345678", status=Status.ACTIVE):
    born = date(1940, 1, 1 + i % 28)
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
        status=status,
    )


@pytest.fixture
def sixty(tree):
    """60 people of commune A (more than two pages of the screen's 25) and 3 of commune B."""
    people = [person(f"Nguyễn Thị Số {i:02d}", tree.a, tree.village_a, i=i) for i in range(60)]
    people += [
        person(f"Trần Văn Bê {i}", tree.b, i=i, status=Status.SUSPENDED if i == 0 else Status.ACTIVE) for i in range(3)
    ]
    return people


def page_of(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return b"".join(response.streaming_content).decode()


def body_rows(html: str) -> list[list[str]]:
    table = html.split("data-print-table", 1)[1].split("</table>", 1)[0]
    tbody = table.split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S) for tr in re.findall(r"<tr>(.*?)</tr>", tbody, re.S)]


def test_the_print_page_has_every_row_numbered_under_a_title_block(client_for, officer_a, tree, sixty):
    html = page_of(client_for(officer_a).get(reverse(PRINT)))

    rows = body_rows(html)
    assert len(rows) == 60  # every row of the officer's commune, not a page of 25
    assert [r[0] for r in rows] == [str(i) for i in range(1, 61)]
    assert {r[1] for r in rows} == {b.full_name for b in sixty if b.commune_id == tree.a.pk}
    # the title block: the unit, the list's title, the date
    assert "UBND PHƯỜNG CHÂU PHÚ A" in html
    assert "DANH SÁCH ĐỐI TƯỢNG" in html
    today = timezone.localdate()
    assert f"Châu Phú A, ngày {today:%d} tháng {today:%m} năm {today:%Y}" in html
    # nothing of the screen: no menu, no form, no input
    for tag in ("<nav", "<form", "<input", "<select", "app-nav", "app-menu"):
        assert tag not in html
    # a commune's own list has no commune column and no counts per commune
    assert '<th scope="col">Xã/phường</th>' not in html
    assert "data-summary" not in html
    assert 'class="sign"' not in html  # the signature column only on request


def test_the_signature_column_on_request(client_for, officer_a, sixty):
    client = client_for(officer_a)
    plain = page_of(client.get(reverse(PRINT), {"status": "active"}))
    assert 'href="?status=active&amp;sign=1" data-sign-toggle' in plain

    html = page_of(client.get(reverse(PRINT), {"status": "active", "sign": "1"}))
    assert '<th scope="col" class="sign" data-sign>Ký nhận</th>' in html
    rows = body_rows(html)
    assert len(rows) == 60
    assert all(r[-1] == "" for r in rows)  # an empty cell to sign in
    assert html.count('<td class="sign"></td>') == 60


def test_printing_is_logged_and_follows_the_export_rules(client_for, officer_a, tree, sixty):
    page_of(client_for(officer_a).get(reverse(PRINT), {"q": "nguyen"}))
    event = AuditEvent.objects.get(action="registry.printed")
    assert event.actor == officer_a
    assert event.area == tree.a
    assert event.after == {"format": "print", "rows": 60, "filters": {"q": "nguyen"}}


@pytest.mark.parametrize("role", [Role.VILLAGE_HEAD, Role.COMMUNE_POLICE])
def test_roles_that_may_not_take_the_list_away_may_not_print_it(role, client_for, tree, sixty):
    client = client_for(make_user("reader", role, tree.a))
    assert client.get(reverse(PRINT)).status_code == 403
    assert 'data-action="print"' not in client.get(reverse("registry:list")).content.decode()


def test_privacy_holds_on_paper(client_for, viewer_a, tree, policy):
    """The province monitor (no CCCD, no contact data): masked CCCD; HIV-related categories
    never printed, even for those who may see them."""
    from ansinh.policy.models import Category

    b = person("Lê Thị Hoa", tree.a)
    hidden = Category.objects.filter(sensitive=True).first()
    shown = Category.objects.filter(sensitive=False).first()
    for category in (hidden, shown):
        BeneficiaryCategory.objects.create(beneficiary=b, category=category, from_month=date(2026, 1, 1))

    html = page_of(client_for(viewer_a).get(reverse(PRINT)))

    [row] = body_rows(html)
    assert b.cccd not in html
    assert b.masked_cccd in row
    assert shown.name in html
    assert hidden.code not in html
    assert hidden.name not in html
    assert "912345678" not in html and "0912 345 678" not in html  # no phone column on paper


def test_a_district_list_shows_the_commune_and_counts_per_commune(client_for, tree, sixty):
    user = make_user("district", Role.OFFICE_OFFICER, tree.district)
    html = page_of(client_for(user).get(reverse(PRINT)))

    assert "UBND THÀNH PHỐ CHÂU ĐỐC" in html
    assert '<th scope="col">Xã/phường</th>' in html
    rows = body_rows(html)
    assert len(rows) == 63
    assert {r[5] for r in rows} == {"Phường Châu Phú A", "Phường Vĩnh Mỹ"}
    summary = html.split("data-summary", 1)[1]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", summary)][1:]
    assert cells == [
        ["1", "Phường Châu Phú A", "Thành phố Châu Đốc", "60", "60"],
        ["2", "Phường Vĩnh Mỹ", "Thành phố Châu Đốc", "3", "2"],
        ["", "Tổng cộng", "", "63", "62"],
    ]


def test_a_list_above_the_limit_is_not_printed(client_for, officer_a, sixty, settings):
    settings.ANSINH_EXPORT_MAX_ROWS = 50
    response = client_for(officer_a).get(reverse(PRINT), {"status": "active"})
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:list") + "?status=active"
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Danh sách có hơn 50 đối tượng, quá nhiều để in.")
    assert not AuditEvent.objects.filter(action="registry.printed").exists()


def test_print_queries_do_not_grow_with_the_rows(client_for, officer_a, tree, django_assert_max_num_queries):
    for i in range(30):
        person(f"Trần Thị {i}", tree.a, i=i)
    client = client_for(officer_a)
    with django_assert_max_num_queries(18):
        assert len(body_rows(page_of(client.get(reverse(PRINT))))) == 30
    for i in range(30, 90):
        person(f"Trần Thị {i}", tree.a, i=i)
    with django_assert_max_num_queries(18):
        assert len(body_rows(page_of(client.get(reverse(PRINT))))) == 90


def test_the_list_page_links_to_the_print_page(client_for, officer_a, sixty):
    html = client_for(officer_a).get(reverse("registry:list"), {"status": "active"}).content.decode()
    assert f'href="{reverse(PRINT)}?status=active" data-action="print"' in html


# --- XLSX --------------------------------------------------------------------------------------


def workbook(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_xlsx_has_a_title_block_row_numbers_and_print_setup(client_for, officer_a, sixty):
    wb = workbook(client_for(officer_a).get(reverse(EXPORT)))
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    today = timezone.localdate()
    assert rows[0][0] == "UBND PHƯỜNG CHÂU PHÚ A"
    assert rows[1][0] == "DANH SÁCH ĐỐI TƯỢNG"
    assert f"Ngày lập: {today:%d/%m/%Y}" in [r[0] for r in rows[2:4]]
    header = next(i for i, r in enumerate(rows) if r[0] == "STT")
    assert rows[header][1] == "Họ và tên"
    data = [r for r in rows[header + 1 :] if any(r)]
    assert [r[0] for r in data] == list(range(1, 61))
    # print setup: the header row on every page, landscape A4, one page wide
    assert ws.print_title_rows == f"${header + 1}:${header + 1}"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.freeze_panes == f"A{header + 2}"
    assert wb.sheetnames == ["Danh sách đối tượng"]  # a commune's list: no summary sheet


def test_a_district_export_has_a_sheet_of_counts_per_commune(client_for, tree, sixty):
    user = make_user("district", Role.OFFICE_OFFICER, tree.district)
    wb = workbook(client_for(user).get(reverse(EXPORT)))
    assert wb.sheetnames == ["Danh sách đối tượng", "Tổng hợp theo xã"]
    summary = wb["Tổng hợp theo xã"]
    rows = list(summary.iter_rows(values_only=True))
    assert rows[0][0] == "UBND THÀNH PHỐ CHÂU ĐỐC"
    header = next(i for i, r in enumerate(rows) if r[0] == "STT")
    assert [list(r) for r in rows[header + 1 :]] == [
        [1, "Phường Châu Phú A", "Thành phố Châu Đốc", 60, 60],
        [2, "Phường Vĩnh Mỹ", "Thành phố Châu Đốc", 3, 2],
        [None, "Tổng cộng", None, 63, 62],
    ]
    assert summary.print_title_rows == f"${header + 1}:${header + 1}"


# --- the other lists ---------------------------------------------------------------------------


def test_the_area_list_on_paper_has_every_area_under_its_parent(client_for, officer_a, tree):
    html = page_of(client_for(officer_a).get(reverse("areas:print")))
    rows = body_rows(html)
    assert [(r[0], r[1].replace("\u2003", "> ")) for r in rows] == [
        ("1", "Phường Châu Phú A"),
        ("2", "> Khóm Châu Long 1"),
    ]
    assert "UBND PHƯỜNG CHÂU PHÚ A" in html
    assert "<nav" not in html and "<form" not in html
    assert 'data-action="print"' in client_for(officer_a).get(reverse("areas:list")).content.decode()


def test_one_area_on_paper_from_its_page(client_for, tree):
    user = make_user("district", Role.OFFICE_OFFICER, tree.district)
    client = client_for(user)
    assert f'href="{reverse("areas:print")}?area={tree.a.pk}" data-action="print"' in (
        client.get(reverse("areas:detail", args=[tree.a.pk])).content.decode()
    )
    whole = body_rows(page_of(client.get(reverse("areas:print"))))
    assert [r[1].strip("\u2003") for r in whole] == [
        "Thành phố Châu Đốc",
        "Phường Châu Phú A",
        "Khóm Châu Long 1",
        "Phường Vĩnh Mỹ",
    ]
    html = page_of(client.get(reverse("areas:print"), {"area": tree.a.pk}))
    assert [r[1].strip("\u2003") for r in body_rows(html)] == ["Phường Châu Phú A", "Khóm Châu Long 1"]
    assert "UBND PHƯỜNG CHÂU PHÚ A" in html
    outsider = make_user("officer_b2", Role.COMMUNE_OFFICER, tree.b)
    assert client_for(outsider).get(reverse("areas:print"), {"area": tree.a.pk}).status_code == 404


def test_the_organisation_list_on_paper(client_for, officer_a, units):
    html = page_of(client_for(officer_a).get(reverse("orgs:print")))
    rows = body_rows(html)
    assert [r[1] for r in rows] == ["UBND phường Châu Phú A"]
    assert "Phòng LĐTBXH Châu Đốc" not in html  # seated in the district, outside the officer's areas
    assert "<nav" not in html and "<form" not in html


def test_people_moving_in_on_paper_with_a_signature_column(client_for, officer_a, officer_b, tree):
    from ansinh.registry import services

    b = person("Nguyễn Thị Ánh", tree.a, tree.village_a)
    services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind="move",
        number="5/QĐ-UBND",
        signed_on=date(2026, 2, 25),
        event_date=date(2026, 2, 20),
        to_commune=tree.b,
    )
    client = client_for(officer_b)
    assert 'data-action="print"' in client.get(reverse("registry:moves")).content.decode()
    html = page_of(client.get(reverse("registry:moves_print"), {"sign": "1"}))
    [row] = body_rows(html)
    assert row[:4] == ["1", "Nguyễn Thị Ánh", "1940", b.masked_cccd]
    assert row[-1] == ""  # where the person signs
    assert b.cccd not in html
    assert "UBND PHƯỜNG VĨNH MỸ" in html


def test_the_import_error_report_is_set_up_to_print_with_its_header_in_row_one(client_for, officer_a, tree, policy):
    """Set up to print like every export, but no title block: it is uploaded again as it is."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ansinh.registry.models import ImportJob
    from tests.factories import import_xlsx

    client = client_for(officer_a)
    content = import_xlsx([["Võ Thị Dung", "31/02/1950"]])  # a wrong date, no gender, no category
    client.post(reverse("imports:index"), {"commune": tree.a.pk, "file": SimpleUploadedFile("ds.xlsx", content)})
    job = ImportJob.objects.get()
    response = client.get(reverse("imports:report", args=[job.pk]))
    ws = load_workbook(io.BytesIO(response.content))["Danh sách"]
    assert ws["A1"].value == "Dòng"
    assert (ws.print_title_rows, ws.page_setup.orientation, ws.page_setup.fitToWidth) == ("$1:$1", "landscape", 1)
