"""The budget estimate (issue 10 part 6) for a small world computed by hand: an 80th birthday
raises the amount from the month after it, a claim that ends and a stop already decided end the
payments, a suspended person is not counted, the funeral estimate follows the province's
mortality rate, fees follow the contract in force (or the latest one); XLSX, command, page, API."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from ansinh.payroll import budget, services
from ansinh.payroll.models import ContractPurpose, FeeKind, PaymentCalendar
from ansinh.policy.entitlement import PolicyMonth
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory

TODAY = date(2026, 12, 3)
YEAR = 2027


def person(commune, name, birth, code, to_month=None, path=None, **kw):
    b = Beneficiary.objects.create(
        full_name=name, birth_date=birth, gender="female", commune=commune, area_path=path or commune.path,
        start_month=date(2025, 1, 1), **kw,
    )  # fmt: skip
    BeneficiaryCategory.objects.create(
        beneficiary=b, category=Category.objects.get(code=code), from_month=date(2025, 1, 1), to_month=to_month
    )
    return b


def contract(world, unit, area, number, start, end, **fee):
    return services.create_contract(
        actor=None,
        data=services.ContractInput(
            number=number, paying_unit=unit, provider=world.post, areas=[area], purpose=ContractPurpose.REGULAR,
            valid_from=start, valid_to=end, **fee,
        ),
    )  # fmt: skip


@pytest.fixture
def small_world(world):
    tree = world.tree
    assert PolicyMonth.load(date(YEAR, 1, 1)).table(tree.province).standard_level("BTXH") == 500_000
    # A: turns 80 on 15 June 2027 → 1.5 × 500,000 until June, 2.0 × from July
    person(tree.a, "Bà Tám Mươi", date(1947, 6, 15), "D20.5.5.a")
    person(tree.a, "Bà Bảy Bảy", date(1950, 1, 1), "D20.5.5.a")  # 77 all year: 750,000
    person(tree.a, "Ông Tạm Dừng", date(1940, 1, 1), "D20.5.5.a", status="suspended")  # not counted
    # B: a claim that ends in March 2027; a stop decided for May 2027 (end_month = last paid month)
    person(tree.b, "Cụ Hết Diện", date(1930, 3, 3), "D20.5.5.c", to_month=date(2027, 3, 1))
    person(tree.b, "Cụ Dừng Tháng Năm", date(1931, 4, 4), "D20.5.5.c", end_month=date(2027, 5, 1))
    # fees: A's contract of 2026 (flat 5,000) is the latest one; B's of 2027 is 1.5 %
    contract(world, world.unit_a, tree.a, "HĐ-A-2026", date(2026, 1, 1), date(2026, 12, 31), fee_kind=FeeKind.FLAT,
             fee_flat=5000)  # fmt: skip
    contract(world, world.unit_b, tree.b, "HĐ-B-2027", date(2027, 1, 1), date(2027, 12, 31),
             fee_kind=FeeKind.PERCENT, fee_basis_points=150)  # fmt: skip
    return world


def rows_by_area(estimate):
    return {r["area_id"]: r for r in estimate["rows"] if r["programme"] == "BTXH"}


def test_the_estimate_of_a_small_world_computed_by_hand(small_world):
    tree = small_world.tree
    est = budget.budget_estimate(area=tree.district, year=YEAR, today=TODAY)
    rows = rows_by_area(est)
    a, b = rows[tree.a.pk], rows[tree.b.pk]
    # A: 750,000 × 6 + 1,000,000 × 6 (80 from July) + 750,000 × 12
    assert a["beneficiaries"] == 2
    assert a["allowances"] == 750_000 * 6 + 1_000_000 * 6 + 750_000 * 12 == 19_500_000
    assert [m["allowances"] for m in a["months"]][5:7] == [1_500_000, 1_750_000]
    # funeral: 2 people × 30/1000 × 10,000,000 (20 × the standard level)
    assert a["funeral"] == 600_000
    assert a["fees"] == 12 * 2 * 5000  # the latest contract (2026) applies
    assert a["total"] == 19_500_000 + 600_000 + 120_000
    # B: Jan–Mar two people, April–May one, then nobody
    assert b["allowances"] == 500_000 * 3 + 500_000 * 5 == 4_000_000
    assert [m["people"] for m in b["months"]] == [2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert b["fees"] == 3 * 15_000 + 2 * 7_500
    assert b["funeral"] == 600_000
    assert est["totals"]["total"] == a["total"] + b["total"]
    assert est["programmes"]["BTXH"]["allowances"] == 23_500_000
    assert sum(q["allowances"] for q in a["quarters"]) == a["allowances"]
    assert est["evaluations"] <= 12 * 4


def test_the_provinces_mortality_rate_and_rows_of_a_province(small_world):
    tree = small_world.tree
    PaymentCalendar.objects.create(province=tree.province, area_path=tree.province.path, mortality_per_mille=25)
    est = budget.budget_estimate(area=tree.province, year=YEAR, today=TODAY)
    rows = rows_by_area(est)
    assert list(rows) == [tree.district.pk]  # one row per district of the province
    assert rows[tree.district.pk]["funeral"] == 4 * 25 * 10_000_000 // 1000
    # a commune is its own row, also for people recorded in one of its villages
    person(tree.a, "Bà Ở Khóm", date(1950, 2, 2), "D20.5.5.a", path=tree.village_a.path)
    commune = budget.budget_estimate(area=tree.a, year=YEAR, today=TODAY)
    assert list(rows_by_area(commune)) == [tree.a.pk]
    assert rows_by_area(commune)[tree.a.pk]["beneficiaries"] == 3


def test_the_xlsx_reads_back(small_world):
    tree = small_world.tree
    est = budget.budget_estimate(area=tree.district, year=YEAR, today=TODAY)
    wb = load_workbook(io.BytesIO(budget.budget_xlsx(est, unit_name="Phòng Lao động")))
    cells = [str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c is not None]
    text = "\n".join(cells)
    assert "DỰ TOÁN KINH PHÍ THỰC HIỆN CHÍNH SÁCH TRỢ GIÚP XÃ HỘI NĂM 2027" in text
    for head in ("Số đối tượng", "Kinh phí trợ cấp hằng tháng", "Mai táng phí", "Chi phí chi trả", "Tổng cộng"):
        assert head in text
    assert "19.500.000" in cells and "4.000.000" in cells and "1.200.000" in cells
    assert "Bà Tám Mươi" not in text


def test_the_command_prints_json_and_writes_xlsx(small_world, tmp_path, capsys):
    call_command("budget_estimate", "--year", str(YEAR), "--area", "884", "--as-of", "2026-12")
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["allowances"] == 23_500_000
    out = tmp_path / "du-toan.xlsx"
    call_command("budget_estimate", "--year", str(YEAR), "--area", "884", "--format", "xlsx", "--out", str(out))
    assert load_workbook(out).active is not None


def test_page_and_api(small_world, client_for, api_client_for, preparer_a, officer_b, viewer_a):
    tree = small_world.tree
    url = reverse("payroll:budget")
    page = client_for(preparer_a).get(url, {"year": YEAR, "area": tree.a.pk})
    assert page.status_code == 200
    assert "Dự toán" in page.content.decode()
    xlsx = client_for(preparer_a).get(url, {"year": YEAR, "area": tree.a.pk, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "NĂM 2027" in str(load_workbook(io.BytesIO(xlsx.content)).active["A4"].value)
    # another commune's officer may not estimate A
    assert client_for(officer_b).get(url, {"year": YEAR, "area": tree.a.pk}).status_code in (403, 404)
    api = api_client_for(preparer_a)
    got = api.get("/api/v1/payroll/budget", {"year": YEAR, "area_id": tree.a.pk})
    assert got.status_code == 200 and got.json()["year"] == YEAR
    assert (
        api_client_for(officer_b).get("/api/v1/payroll/budget", {"year": YEAR, "area_id": tree.a.pk}).json()["rows"]
        == []
    )


def test_reads_do_not_grow_with_the_people(small_world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree = small_world.tree
    with CaptureQueriesContext(connection) as before:
        budget.budget_estimate(area=tree.district, year=YEAR, today=TODAY)
    for i in range(30):
        person(tree.a if i % 2 else tree.b, f"Người {i}", date(1930 + i, 1 + i % 12, 1 + i % 27), "D20.5.5.a")
    with CaptureQueriesContext(connection) as after:
        est = budget.budget_estimate(area=tree.district, year=YEAR, today=TODAY)
    assert len(after.captured_queries) == len(before.captured_queries)
    assert est["totals"]["beneficiaries"] == 34


def test_audit_sentences_are_vietnamese(small_world, client_for, preparer_a):
    from ansinh.audit.models import AuditEvent
    from tests.web.test_audit_text import ENGLISH, RAW, rendered_texts

    client_for(preparer_a).get(
        reverse("payroll:budget"), {"year": YEAR, "area": small_world.tree.a.pk, "format": "xlsx"}
    )
    events = list(AuditEvent.objects.filter(action="payroll.budget.exported"))
    assert len(events) == 1
    for text in rendered_texts(events, preparer_a):
        assert "dự toán kinh phí năm 2027" in text
        assert not ENGLISH.search(text), text
        assert not any(p.search(text) for p in RAW), text
