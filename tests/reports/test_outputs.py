"""The outputs of the statutory tables: XLSX layout (merged cells, numbering row, number
formats, totals), the CLI, the web pages (printable page, downloads logged), the API, access."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.reports import xlsx
from ansinh.reports.statutory import build
from ansinh.reports.tables import make_period
from tests.conftest import make_user
from tests.reports.test_tables import AS_OF, JUL, SEP, pilot  # noqa: F401

pytestmark = pytest.mark.django_db

QUERY = {"area": "89", "tree": "legacy", "from": "2023-07", "to": "2023-09", "as_of": "2023-09-10"}


def _sheet(table):
    return load_workbook(io.BytesIO(xlsx.workbook_bytes(table))).active


def _d(value) -> Decimal:
    return Decimal(str(value)).normalize()


def _merged(ws) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def test_xlsx_bieu03_layout(pilot):  # noqa: F811
    table = build("bieu03", pilot.province, make_period(JUL, SEP, AS_OF))
    ws = _sheet(table)
    assert ws["A1"].value == "BIỂU TỔNG HỢP"
    assert ws["A2"].value.startswith("Kết quả thanh quyết toán")
    assert ws["A3"].value == "(Tính đến ngày 10/09/2023)"
    assert ws["K4"].value == "Biểu 03"
    merged = _merged(ws)
    # title rows across the 11 columns; STT … over both header rows; each month over its two columns
    assert {"A1:K1", "A2:K2", "A3:K3", "A6:A7", "B6:B7", "C6:C7", "D6:D7", "E6:F6", "G6:H6", "I6:J6", "K6:K7"} <= merged
    assert [ws.cell(6, c).value for c in (5, 7, 9)] == ["Tháng 7", "Tháng 8", "Tháng 9 (ước thực hiện)"]
    assert [ws.cell(7, c).value for c in (5, 6)] == ["Số đối tượng", "Số tiền (triệu đồng)"]
    assert [ws.cell(8, c).value for c in range(1, 12)] == ["A", "B", 1, "2 = 5+7+9", 4, 5, 6, 7, 8, 9, 10]
    # unit rows and total: numbers, not strings, with Vietnamese-displayable formats
    assert [ws.cell(9, c).value for c in range(1, 4)] == [1, "Thành phố Châu Đốc", 2]
    assert _d(ws.cell(9, 4).value) == Decimal("3.7")  # Excel keeps numbers as doubles
    assert _d(ws.cell(10, 6).value) == Decimal("0.601") and ws.cell(10, 6).number_format == "#,##0.000"
    assert ws.cell(9, 3).number_format == "#,##0"
    total = [ws.cell(11, c).value for c in range(2, 11)]
    assert total[:2] == ["Tổng số", 4]
    assert [_d(v) for v in total[2:]] == [Decimal(x) for x in ("5.701", "2", "1.801", "2", "1.7", "3", "2.2")]
    assert ws.cell(11, 2).font.b


def test_xlsx_bieu01_and_02_month_header_and_rates(pilot):  # noqa: F811
    ws = _sheet(build("bieu01", pilot.province, make_period(JUL, SEP, AS_OF)))
    assert "F6:H6" in _merged(ws) and ws["F6"].value == "Tháng"
    assert [ws.cell(7, c).value for c in (6, 7, 8)] == ["7", "8", "9"]
    assert [ws.cell(8, c).value for c in range(1, 10)] == ["A", "B", 1, "2 = 4+5+6", "3=2/1", 4, 5, 6, 7]
    assert _d(ws["E11"].value) == Decimal("62.5") and ws["E11"].number_format == "#,##0.00"
    assert ws["I9"].value == "3 chưa có TK"
    ws2 = _sheet(build("bieu02", pilot.province, make_period(JUL, SEP, AS_OF)))
    assert ws2["D8"].value == 2  # column 2: the distinct count, footnoted
    assert any("Cột 2" in str(ws2.cell(r, 1).value) for r in range(12, 16))


def test_cli_json_and_xlsx(pilot, tmp_path, capsys):  # noqa: F811
    call_command(
        "report",
        "bieu02",
        "--area",
        "89",
        "--tree",
        "legacy",
        "--from",
        "2023-07",
        "--to",
        "2023-09",
        "--as-of",
        "2023-09-10",
        "--format",
        "json",
    )
    data = json.loads(capsys.readouterr().out)
    assert [r["display"]["paid"] for r in data["rows"]] == ["2", "2"]
    assert data["total"]["display"] == {
        "stt": "",
        "name": "Tổng số",
        "with_account": "5",
        "paid": "4",
        "rate": "80,00",
        "m0": "2",
        "m1": "2",
        "m2": "3",
        "note": "",
    }
    out = tmp_path / "b3.xlsx"
    call_command(
        "report",
        "bieu03",
        "--area",
        "890",
        "--from",
        "2023-07",
        "--to",
        "2023-09",
        "--as-of",
        "2023-09-10",
        "--format",
        "xlsx",
        "--out",
        str(out),
    )
    ws = load_workbook(out).active
    assert ws["B9"].value == "Phường Nhà Bàng" and ws["C9"].value == 2
    assert AuditEvent.objects.filter(action="reports.bieu.exported").count() == 2
    with pytest.raises(CommandError):
        call_command("report", "bieu01", "--area", "30280", "--from", "2023-07", "--to", "2023-09")  # both trees
    with pytest.raises(CommandError):
        call_command("report", "bieu01", "--area", "89", "--tree", "legacy", "--from", "2023-9", "--to", "2023-07")


def test_web_page_downloads_and_access(pilot, client_for, client):  # noqa: F811
    monitor = make_user("monitor_89", Role.PROVINCE_MONITOR, pilot.province)
    c = client_for(monitor)
    assert c.get("/reports/").status_code == 200
    page = c.get("/reports/bieu03/", QUERY)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Tháng 9 (ước thực hiện)" in text and "1,801" in text and "5,701" in text and "2 = 5+7+9" in text
    assert 'colspan="2"' in text and "print.css" in text
    assert not AuditEvent.objects.filter(action="reports.bieu.exported").exists()  # looking is not exporting
    download = c.get("/reports/bieu01/", {**QUERY, "format": "xlsx"})
    assert download.status_code == 200 and download["Content-Disposition"].endswith('.xlsx"')
    assert load_workbook(io.BytesIO(download.content)).active["C11"].value == 8
    as_json = c.get("/reports/bieu02/", {**QUERY, "format": "json"})
    assert json.loads(as_json.content)["total"]["values"]["paid"] == 4
    events = AuditEvent.objects.filter(action="reports.bieu.exported").order_by("pk")
    assert [e.after["format"] for e in events] == ["xlsx", "json"]
    # the chooser sends to the report
    chosen = c.get("/reports/", {"bieu": "bieu02", "unit": "legacy:884", "from": "2023-07", "to": "2023-09"})
    assert chosen.status_code == 302 and chosen["Location"].startswith("/reports/bieu02/?area=884&tree=legacy")
    # a bad period: the chooser again with the reason
    assert c.get("/reports/bieu02/", {**QUERY, "from": "2023-13"}).status_code == 400
    assert c.get("/reports/bieu09/", QUERY).status_code == 404

    # a district monitor of Châu Đốc: the province and Tịnh Biên are elsewhere (404)
    district = make_user("monitor_884", Role.PROVINCE_MONITOR, pilot.chau_doc)
    c = client_for(district)
    assert c.get("/reports/bieu02/", QUERY).status_code == 404
    assert c.get("/reports/bieu02/", {**QUERY, "area": "890"}).status_code == 404
    assert c.get("/reports/bieu02/", {**QUERY, "area": "884"}).status_code == 200
    # a commune officer has no reports.view: the chooser is a 403, a table a 404
    officer = make_user("officer_c", Role.COMMUNE_OFFICER, pilot.c)
    c = client_for(officer)
    assert c.get("/reports/").status_code == 403
    assert c.get("/reports/bieu02/", {**QUERY, "area": "30316"}).status_code == 404
    # anonymous: to the login form
    client.logout()
    assert client.get("/reports/bieu02/", QUERY).status_code == 302


def test_api(pilot, api_client_for):  # noqa: F811
    monitor = make_user("monitor_89", Role.PROVINCE_MONITOR, pilot.province)
    api = api_client_for(monitor)
    response = api.get("/api/v1/reports/bieu03", QUERY)
    assert response.status_code == 200
    data = response.json()
    assert data["total"]["values"]["amount"] == 5_700_500 and data["total"]["display"]["amount"] == "5,701"
    assert [m["estimate"] for m in data["months"]] == [False, False, True]
    assert api.get("/api/v1/reports/bieu03", {**QUERY, "to": "2023-06"}).status_code == 422
    assert api.get("/api/v1/reports/bieu04", QUERY).status_code == 422
    outsider = api_client_for(make_user("monitor_890", Role.PROVINCE_MONITOR, pilot.tinh_bien))
    assert outsider.get("/api/v1/reports/bieu03", QUERY).status_code == 404
    assert outsider.get("/api/v1/reports/bieu03", {**QUERY, "area": "890"}).status_code == 200
    from django.test import Client

    assert Client().get("/api/v1/reports/bieu03", QUERY).status_code == 401
    assert date.fromisoformat(data["as_of"]) == AS_OF
