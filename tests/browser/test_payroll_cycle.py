"""The monthly cycle's maker-checker path in a real browser (issue 10, "Browser test"): the
commune officer submits the commune's change list; the office officer (the preparer) accepts it,
appraises the cycle and generates the payroll, and cannot approve it even holding the approver
role too; a second person, the approver, approves it with a code of their authenticator app;
the preparer makes the funding request and downloads its XLSX, whose totals are the payroll's."""

import io
import os
import time
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django_otp.oath import TOTP
from openpyxl import load_workbook

from ansinh.accounts import otp
from ansinh.accounts.models import Function, OrgKind, RoleAssignment
from ansinh.accounts.roles import Role
from ansinh.accounts.services import assign_responsibility, create_org_unit
from ansinh.audit.models import AuditEvent
from ansinh.core.money import format_vnd
from ansinh.payments.models import Institution, PayeeDesignation, PaymentMethod, ReceivingAccount
from ansinh.payroll import changelists, funding, services
from ansinh.payroll.models import (
    ChangeList,
    ChangeListState,
    ContractPurpose,
    CycleState,
    FeeKind,
    FundingRequest,
    PaymentCycle,
    PayrollApproval,
    PayrollLine,
    PayrollRun,
)
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Representative
from tests.conftest import make_user

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("ANSINH_SCREENSHOTS")  # a folder: keep the screenshots to look at

MONTH = date(2026, 3, 1)
CATEGORY = "D20.5.5.c"
FEE = 5000  # flat fee per person of the provider contract
KEY = "3132333435363738393031323334353637383930"  # the approver's authenticator secret (hex)


def current_code(device) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def _person(tree, name: str) -> Beneficiary:
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=date(1940, 5, 17),
        gender="male",
        commune=tree.a,
        village=tree.village_a,
        area_path=tree.village_a.path,
        start_month=date(2025, 1, 1),
        address="12 đường Lê Lợi",
    )
    BeneficiaryCategory.objects.create(
        beneficiary=b, category=Category.objects.get(code=CATEGORY), from_month=date(2025, 1, 1)
    )
    return b


@pytest.fixture
def cycle(tree, policy):
    """Commune A's People's Committee approves, the district post office pays under a contract
    with a flat fee; three beneficiaries paid to an account, at the pay point (to a guardian) and
    at home; the month's cycles opened and the change lists built, as the nightly run does."""
    # browser tests run on a flushed database: the bank list a migration loads may be gone
    call_command("load_institutions", stdout=StringIO())
    committee = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND Châu Phú A", area=tree.a)
    post = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name="Bưu điện Châu Đốc", area=tree.district)
    assign_responsibility(actor=None, org_unit=committee, area=tree.a, function=Function.APPROVE)
    assign_responsibility(actor=None, org_unit=post, area=tree.a, function=Function.PAY)
    services.create_contract(
        actor=None,
        data=services.ContractInput(
            number="HĐ-01/2026",
            paying_unit=committee,
            provider=post,
            areas=[tree.a],
            purpose=ContractPurpose.REGULAR,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            fee_kind=FeeKind.FLAT,
            fee_flat=FEE,
        ),
    )
    by_account = _person(tree, "Trần Văn Tài Khoản")
    account = ReceivingAccount.objects.create(
        beneficiary=by_account,
        kind="bank",
        institution=Institution.objects.get(code="VBA"),
        number_encrypted="x",
        number_hash="h" * 64,
        last4="6789",
        holder_name="TRAN VAN TAI KHOAN",
        status="active",
    )
    PaymentMethod.objects.create(beneficiary=by_account, method="account", account=account, from_month=MONTH)
    at_point = _person(tree, "Lê Thị Điểm Chi")
    PaymentMethod.objects.create(beneficiary=at_point, method="pay_point", cash_reason="choice", from_month=MONTH)
    guardian = Representative.objects.create(
        full_name="Nguyễn Văn Con", cccd="089075001234", commune=tree.a, area_path=tree.a.path
    )
    link = Representation.objects.create(beneficiary=at_point, representative=guardian, kind="guardian")
    PayeeDesignation.objects.create(beneficiary=at_point, representation=link, from_month=MONTH)
    at_home = _person(tree, "Phạm Văn Tại Nhà")
    PaymentMethod.objects.create(beneficiary=at_home, method="home", cash_reason="choice", from_month=MONTH)

    services.open_cycles(actor=None, month=MONTH, area=tree.a)
    programme_id = Category.objects.get(code=CATEGORY).programme_id
    c = PaymentCycle.objects.get(month=MONTH, area=tree.a, programme_id=programme_id)
    changelists.build_change_lists(actor=None, cycle=c)
    assert c.state == CycleState.OPEN
    return c


def _state(page) -> str:
    return page.locator("dl [data-state]").first.get_attribute("data-state")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/payroll-cycle-{name}.png", full_page=True)


def _go(page, target) -> None:
    """Click a link or a form's button (a selector or a locator) and wait for the next page."""
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()


def _message(page, kind: str = "success") -> str:
    alert = page.locator(f".app-messages .alert-{kind}")
    alert.first.wait_for()
    return alert.first.inner_text()


def test_change_list_to_appraisal_payroll_second_person_approval_and_funding(
    page, login, live_server, tree, officer_a, cycle
):
    preparer = make_user("canbo_phong", Role.OFFICE_OFFICER, tree.a)
    # the preparer also holds the approver role here: the rule is "a second person", not a role
    RoleAssignment.objects.create(user=preparer, role=Role.APPROVER, area=tree.a)
    otp.set_device(actor=None, user=preparer, key_hex=KEY[::-1])
    approver = make_user("lanhdao_xa", Role.APPROVER, tree.a)
    device = otp.set_device(actor=None, user=approver, key_hex=KEY)
    cycle_url = f"{live_server.url}{reverse('payroll:cycle', args=[cycle.pk])}"
    change_list = ChangeList.objects.get(cycle=cycle, commune=tree.a)

    # 1. The commune officer finds the commune's list of the month and submits it.
    login(page, officer_a)
    _go(page, '[data-nav="payroll"]')
    _go(page, f'nav a[href="{reverse("payroll:change_lists")}"]')
    _go(page, f'[data-list="change-lists"] a[href="{reverse("payroll:change_list", args=[change_list.pk])}"]')
    assert page.locator("[data-kind-group]").count() >= 1  # the month's payment-method changes
    assert "Trần Văn Tài Khoản" in page.inner_text("main")
    _shot(page, "1-change-list")
    _go(page, '[data-form="change-submit"] button[type=submit]')
    assert _message(page) == "Đã gửi danh sách thay đổi lên phòng."
    assert page.locator("dl [data-state]").first.inner_text().startswith("Đã gửi")
    change_list.refresh_from_db()
    cycle.refresh_from_db()
    assert change_list.state == ChangeListState.SUBMITTED and change_list.submitted_by == officer_a
    assert cycle.state == CycleState.CHANGES_SUBMITTED  # the only commune's list is in
    assert page.locator('[data-form="change-submit"]').count() == 0  # submitted: no longer editable
    assert not page.console_errors

    # 2. The office officer accepts the list, appraises the cycle and generates the payroll.
    page.context.clear_cookies()
    login(page, preparer)
    _go(page, '[data-nav="payroll"]')
    _go(page, f'[data-list="payment-cycles"] a[href="{reverse("payroll:cycle", args=[cycle.pk])}"]')
    _go(page, '[data-section="change-lists"] a')
    row = page.locator('[data-list="cycle-change-lists"] tbody tr').filter(has_text=tree.a.name)
    _go(page, row.get_by_role("button", name="Chấp nhận"))
    assert _message(page) == "Đã chấp nhận danh sách thay đổi."
    assert ChangeList.objects.get(pk=change_list.pk).state == ChangeListState.ACCEPTED
    _shot(page, "2-change-lists-accepted")
    _go(page, '[data-form="changes-appraise"] button[type=submit]')
    assert _message(page) == "Kỳ chi trả đã được thẩm định."
    assert _state(page) == CycleState.APPRAISED
    assert "Đã thẩm định" in page.locator("dl [data-state]").first.inner_text()
    _go(page, '[data-form="payroll-generate"] button[type=submit]')
    generated = _message(page)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.PAYROLL_GENERATED
    lines = PayrollLine.objects.filter(cycle=cycle)
    total = lines.aggregate(s=Sum("amount"))["s"]
    assert lines.count() == 3 and total > 0
    assert generated == f"Đã lập danh sách chi trả: 3 dòng, {format_vnd(total)}."
    assert page.locator('[data-summary="total"]').inner_text() == f"{funding.format_number(total)} đ"
    assert PayrollRun.objects.get(cycle=cycle).generated_by == preparer

    # 3. The preparer cannot approve: no approval form, and the page says why, in Vietnamese.
    _shot(page, "3-generated-preparer")
    assert page.locator('[data-form="payroll-approve"]').count() == 0
    blockers = page.locator("[data-blockers]").inner_text()
    assert "Bạn không thể phê duyệt danh sách chi trả này:" in blockers
    assert "danh sách phải do người thứ hai phê duyệt" in blockers
    assert page.locator('[data-form="payroll-withdraw"]').count() == 1
    assert not PayrollApproval.objects.exists()
    assert not page.console_errors

    # 4. The approver approves with a current code of their authenticator app.
    page.context.clear_cookies()
    login(page, approver)
    page.goto(cycle_url)
    assert page.locator("[data-blockers]").count() == 0
    assert page.locator('[data-form="funding-request"]').count() == 0  # the approver does not prepare
    _shot(page, "4-approver")
    page.fill("#id_approve_token", current_code(device))
    _go(page, '[data-form="payroll-approve"] button[type=submit]')
    approved = _message(page)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPROVED
    record = PayrollApproval.objects.get(cycle=cycle)
    assert (record.approved_by, record.prepared_by) == (approver, preparer)
    assert (record.lines, record.total_amount) == (3, total)
    assert approved == f"Danh sách chi trả đã được phê duyệt. Mã kiểm tra nội dung: {record.content_hash}."
    assert page.locator("[data-hash]").inner_text() == record.content_hash
    assert "Đã phê duyệt" in page.locator("dl [data-state]").first.inner_text()
    assert not page.console_errors

    # 5. The preparer makes the funding request and downloads it as XLSX.
    page.context.clear_cookies()
    login(page, preparer)
    page.goto(cycle_url)
    page.fill("#id_funding_number", "12/ĐNTƯ")
    _go(page, '[data-form="funding-request"] button[type=submit]')
    fee = 3 * FEE
    assert _message(page) == f"Đã lập giấy đề nghị tạm ứng: tổng cộng {funding.format_number(total + fee)} đồng."
    request_obj = FundingRequest.objects.get(cycle=cycle)
    assert (request_obj.allowances_total, request_obj.fee_total, request_obj.total) == (total, fee, total + fee)
    assert page.locator('[data-funding="total"]').inner_text() == f"{funding.format_number(total + fee)} đ"
    _shot(page, "5-funding")
    with page.expect_download() as download_info:
        page.click('[data-link="funding-xlsx"]')
    download = download_info.value
    assert download.suggested_filename == funding.file_name(request_obj)
    ws = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    rows = list(ws.iter_rows(values_only=True))
    text = "\n".join(str(c) for row in rows for c in row if c is not None)
    assert "GIẤY ĐỀ NGHỊ TẠM ỨNG KINH PHÍ CHI TRẢ" in text and "Tháng 03/2026" in text and "12/ĐNTƯ" in text
    assert record.content_hash in text
    for name in ("Trần Văn Tài Khoản", "Lê Thị Điểm Chi", "Phạm Văn Tại Nhà"):
        assert name not in text  # no personal data in the request

    def amount(label: str) -> int:
        row = next(r for r in rows if r[0] == label)
        return int(str(row[3]).replace(".", ""))

    assert amount("Kinh phí chi trả trợ cấp đề nghị tạm ứng") == total
    assert amount("Chi phí chi trả cho đơn vị chi trả (dự kiến)") == fee
    assert amount("TỔNG SỐ ĐỀ NGHỊ TẠM ỨNG") == total + fee
    # both tables (per channel, per kind of payment) add up to the payroll lines in the database
    table_totals = [int(str(r[3]).replace(".", "")) for r in rows if r[1] == "Tổng cộng"]
    assert table_totals == [total, total]
    assert AuditEvent.objects.filter(action="payroll.funding.exported", actor=preparer).count() == 1
    assert not page.console_errors
