"""Approval of the payroll by a second person with a TOTP code, the content hash, withdrawing a
draft, immutability of an approved payroll (services everywhere, the database on PostgreSQL),
same-month payment fixes, and the provider lists (issue 10 part 3)."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook

from ansinh.accounts import access, otp
from ansinh.accounts.models import RoleAssignment
from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.payments.models import Institution, PaymentMethod, ReceivingAccount
from ansinh.payroll import approval, fixes, provider_lists
from ansinh.payroll.generation import generate_payroll
from ansinh.payroll.models import (
    Channel,
    CycleState,
    FixKind,
    FixState,
    LineFix,
    PaidMonth,
    PaymentCycle,
    PayrollApproval,
    PayrollLine,
    PayrollRun,
)
from ansinh.payroll.services import TransitionForbidden, TransitionRefused, open_cycles, transition
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Representative
from tests.payroll.conftest import appraise

M1 = date(2026, 3, 1)
CCCD_REP = "089075001234"
KEY = "3132333435363738393031323334353637383930"


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def code(device: TOTPDevice, steps: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def person(tree, name, **kw):
    b = Beneficiary.objects.create(
        full_name=name,
        birth_date=date(1940, 5, 17),
        gender="male",
        commune=tree.a,
        village=tree.village_a,
        area_path=tree.village_a.path,
        start_month=date(2025, 1, 1),
        address="12 đường Lê Lợi",
        **kw,
    )
    BeneficiaryCategory.objects.create(
        beneficiary=b, category=Category.objects.get(code="D20.5.5.c"), from_month=date(2025, 1, 1)
    )
    return b


def account_of(b, last4="6789", number_hash="h"):
    return ReceivingAccount.objects.create(
        beneficiary=b,
        kind="bank",
        institution=Institution.objects.get(code="VBA"),
        number_encrypted="x",
        number_hash=number_hash * 64,
        last4=last4,
        holder_name=b.full_name.upper(),
        status="active",
    )


@pytest.fixture
def people(world):
    tree = world.tree
    by_account = person(tree, "Trần Văn Tài Khoản")
    acc = account_of(by_account)
    PaymentMethod.objects.create(beneficiary=by_account, method="account", account=acc, from_month=M1)
    at_point = person(tree, "Lê Thị Điểm Chi")
    PaymentMethod.objects.create(beneficiary=at_point, method="pay_point", cash_reason="choice", from_month=M1)
    rep = Representative.objects.create(
        full_name="Nguyễn Văn Con", cccd=CCCD_REP, commune=tree.a, area_path=tree.a.path
    )
    Representation.objects.create(beneficiary=at_point, representative=rep, kind="guardian")
    from ansinh.payments.models import PayeeDesignation

    PayeeDesignation.objects.create(
        beneficiary=at_point, representation=at_point.representations.first(), from_month=M1
    )
    at_home = person(tree, "Phạm Văn Tại Nhà")
    PaymentMethod.objects.create(beneficiary=at_home, method="home", cash_reason="choice", from_month=M1)
    return {"account": by_account, "pay_point": at_point, "home": at_home, "acc": acc}


@pytest.fixture
def cycle(world, preparer_a, people):
    open_cycles(actor=None, month=M1, area=world.tree.a)
    programme_id = Category.objects.get(code="D20.5.5.c").programme_id
    c = appraise(PaymentCycle.objects.get(month=M1, area=world.tree.a, programme_id=programme_id))
    generate_payroll(actor=preparer_a, cycle=c)
    c.refresh_from_db()
    assert c.state == CycleState.PAYROLL_GENERATED
    return c


@pytest.fixture
def device(approver_a):
    d = otp.set_device(actor=None, user=approver_a, key_hex=KEY)
    d.tolerance = 3  # a test approves several times within one period: each code is a later one
    d.save(update_fields=["tolerance"])
    return d


def approve(cycle, approver, device):
    return approval.approve_payroll(actor=approver, cycle=cycle, token=code(device))


# --- approval ----------------------------------------------------------------------------------------


def test_the_preparer_cannot_approve_even_with_the_approver_role(cycle, preparer_a, tree):
    RoleAssignment.objects.create(user=preparer_a, role=Role.APPROVER, area=tree.a)
    access.forget(preparer_a)
    own = otp.set_device(actor=None, user=preparer_a, key_hex=KEY)
    with pytest.raises(approval.ApprovalRefused, match="second person"):
        approval.approve_payroll(actor=preparer_a, cycle=cycle, token=code(own))
    cycle.refresh_from_db()
    assert cycle.state == CycleState.PAYROLL_GENERATED
    assert not PayrollApproval.objects.exists()


def test_a_wrong_or_missing_code_or_device_is_refused(cycle, approver_a):
    with pytest.raises(ValidationError) as exc:
        approval.approve_payroll(actor=approver_a, cycle=cycle, token="123456")
    assert "account page" in str(exc.value.message_dict["token"])
    device = otp.set_device(actor=None, user=approver_a, key_hex=KEY)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    for token in ("", wrong):
        with pytest.raises(ValidationError) as exc:
            approval.approve_payroll(actor=approver_a, cycle=cycle, token=token)
        assert "not valid" in str(exc.value.message_dict["token"])
    assert not PayrollApproval.objects.exists()


def test_roles_without_approve_are_forbidden(cycle, officer_a, viewer_a, officer_b):
    for user in (officer_a, viewer_a, officer_b):
        with pytest.raises(TransitionForbidden):
            approval.approve_payroll(actor=user, cycle=cycle, token="000000")


def test_the_bare_step_is_refused(cycle, approver_a):
    with pytest.raises(TransitionRefused, match="authenticator"):
        transition(actor=approver_a, cycle=cycle, to_state=CycleState.APPROVED)
    with pytest.raises(TransitionRefused, match="Withdraw"):
        transition(actor=None, cycle=cycle, to_state=CycleState.APPRAISED)


def test_approval_writes_hash_paid_months_state_and_audit(cycle, approver_a, preparer_a, device):
    result = approve(cycle, approver_a, device)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPROVED
    run = PayrollRun.objects.get(cycle=cycle)
    assert (result.lines, result.total_amount) == (run.lines, run.total_amount) == (3, run.total_amount)
    assert result.prepared_by == preparer_a and result.approved_by == approver_a
    assert len(result.content_hash) == 64 and result.content_hash == approval.content_hash(cycle)[0]
    assert PaidMonth.objects.filter(line__cycle=cycle, month=M1).count() == 3
    event = AuditEvent.objects.get(action="payroll.payroll.approved", object_id=str(cycle.pk))
    assert event.after["content_hash"] == result.content_hash
    assert event.after["comparison"]["added"] == 3
    # approved once: a second approval is refused
    with pytest.raises(approval.ApprovalRefused):
        approval.approve_payroll(actor=approver_a, cycle=cycle, token=code(device, 1))


def test_the_hash_is_stable_and_follows_the_canonical_form(cycle):
    import hashlib

    first, n, total = approval.content_hash(cycle)
    assert approval.content_hash(cycle) == (first, n, total)
    expected = hashlib.sha256(f"ansinh-payroll-v1|{cycle.pk}|2026-03\n".encode())
    for ln in PayrollLine.objects.filter(cycle=cycle).order_by("id"):
        values = [
            ln.id,
            ln.beneficiary_id,
            ln.line_type,
            ln.amount,
            ln.channel,
            ln.payee_name,
            ln.account_id,
            ln.account_last4,
            ln.months or {},
        ]
        import json

        expected.update(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    assert first == expected.hexdigest()
    line = PayrollLine.objects.filter(cycle=cycle).first()
    PayrollLine.objects.filter(pk=line.pk).update(payee_name=line.payee_name + " X")  # a draft may change
    assert approval.content_hash(cycle)[0] != first


def test_changed_lines_are_refused(cycle, approver_a, device):
    line = PayrollLine.objects.filter(cycle=cycle).first()
    PayrollLine.objects.filter(pk=line.pk).update(amount=line.amount + 1000)
    with pytest.raises(approval.ApprovalRefused, match="changed since the summary"):
        approve(cycle, approver_a, device)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.PAYROLL_GENERATED


def test_withdraw_deletes_the_draft(cycle, preparer_a, approver_a):
    with pytest.raises(ValidationError):
        approval.withdraw_payroll(actor=preparer_a, cycle=cycle, reason=" ")
    with pytest.raises(TransitionForbidden):
        approval.withdraw_payroll(actor=approver_a, cycle=cycle, reason="sai")
    approval.withdraw_payroll(actor=preparer_a, cycle=cycle, reason="Thiếu một xã")
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPRAISED
    assert not PayrollLine.objects.filter(cycle=cycle).exists()
    assert not PayrollRun.objects.filter(cycle=cycle).exists()
    assert AuditEvent.objects.filter(action="payroll.payroll.withdrawn").count() == 1
    generate_payroll(actor=preparer_a, cycle=cycle)  # and it can be generated again
    cycle.refresh_from_db()
    assert cycle.state == CycleState.PAYROLL_GENERATED


def test_an_approved_payroll_is_immutable_in_the_services(cycle, approver_a, preparer_a, device):
    approve(cycle, approver_a, device)
    line = PayrollLine.objects.filter(cycle=cycle).first()
    line.amount += 1
    with pytest.raises(approval.ApprovedPayrollImmutable):
        line.save()
    with pytest.raises(approval.ApprovedPayrollImmutable):
        line.delete()
    with pytest.raises(approval.ApprovalRefused):
        approval.withdraw_payroll(actor=preparer_a, cycle=cycle, reason="x")
    assert PayrollLine.objects.filter(cycle=cycle).count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the immutability trigger exists on PostgreSQL only")
def test_postgresql_refuses_a_raw_update_of_an_approved_line(cycle, approver_a, device):
    approve(cycle, approver_a, device)
    line = PayrollLine.objects.filter(cycle=cycle).first()
    for sql, params in (
        ("UPDATE payroll_payrollline SET amount = amount + 1 WHERE id = %s", [line.pk]),
        ("DELETE FROM payroll_payrollline WHERE id = %s", [line.pk]),
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)
    assert PayrollLine.objects.get(pk=line.pk).amount == line.amount


# --- same-month fixes ---------------------------------------------------------------------------------


@pytest.fixture
def approved(cycle, approver_a, device):
    approve(cycle, approver_a, device)
    cycle.refresh_from_db()
    return cycle


def test_fixes_need_a_second_person_and_never_change_the_amount(approved, people, preparer_a, approver_a, device, tree):
    line = PayrollLine.objects.get(cycle=approved, beneficiary=people["account"])
    amount = line.amount
    corrected = account_of(people["account"], last4="4321", number_hash="k")
    fix = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.RESEND, account=corrected, reason="Sai số TK")
    with pytest.raises(ValidationError, match="already awaits"):
        fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="x")
    # the requester, even with the approver role, cannot approve
    RoleAssignment.objects.create(user=preparer_a, role=Role.APPROVER, area=tree.a)
    access.forget(preparer_a)
    own = otp.set_device(actor=None, user=preparer_a, key_hex=KEY)
    with pytest.raises(ValidationError, match="second person"):
        fixes.approve_fix(actor=preparer_a, fix=fix, token=code(own))
    with pytest.raises(ValidationError):
        fixes.approve_fix(actor=approver_a, fix=fix, token="000000")
    fixes.approve_fix(actor=approver_a, fix=fix, token=code(device, 1))
    fix.refresh_from_db()
    assert fix.state == FixState.APPROVED and fix.decided_by == approver_a
    line.refresh_from_db()
    assert line.amount == amount and line.account_last4 == "6789"  # the line itself is unchanged
    channel, acc = fixes.effective_channel(line)
    assert (channel, acc.pk) == (Channel.ACCOUNT, corrected.pk)
    row = fixes.with_effective_channel(PayrollLine.objects.filter(pk=line.pk)).get()
    assert (row.effective_channel, row.effective_account_id) == (Channel.ACCOUNT, corrected.pk)
    # then to cash; rejected fixes change nothing
    cash = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="Thẻ bị khóa")
    fixes.reject_fix(actor=approver_a, fix=cash, reason="Đã mở lại thẻ")
    assert fixes.effective_channel(line)[0] == Channel.ACCOUNT
    cash = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="Thẻ bị khóa")
    fixes.approve_fix(actor=approver_a, fix=cash, token=code(device, 2))
    row = fixes.with_effective_channel(PayrollLine.objects.filter(pk=line.pk)).get()
    assert (row.effective_channel, row.effective_account_id) == (Channel.PAY_POINT, None)
    assert PayrollLine.objects.get(pk=line.pk).amount == amount
    actions = set(AuditEvent.objects.filter(action__startswith="payroll.fix.").values_list("action", flat=True))
    assert actions == {"payroll.fix.requested", "payroll.fix.approved", "payroll.fix.rejected"}


def test_fix_rules(approved, people, preparer_a, officer_a, tree):
    line = PayrollLine.objects.get(cycle=approved, beneficiary=people["pay_point"])
    with pytest.raises(ValidationError, match="already paid in cash"):
        fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="x")
    other = person(tree, "Khác")
    foreign = account_of(other, last4="1111", number_hash="z")
    with pytest.raises(ValidationError, match="active account of the beneficiary"):
        fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.RESEND, account=foreign, reason="x")
    with pytest.raises(ValidationError, match="role"):
        fixes.request_fix(actor=officer_a, line=line, kind=FixKind.TO_CASH, reason="x")
    assert not LineFix.objects.exists()


def test_a_draft_line_cannot_be_fixed(cycle, people, preparer_a):
    line = PayrollLine.objects.get(cycle=cycle, beneficiary=people["account"])
    with pytest.raises(ValidationError, match="approved payroll"):
        fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="x")


# --- provider lists ------------------------------------------------------------------------------------


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def _texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def test_provider_lists_content_totals_and_no_categories(approved, people, preparer_a, tree):
    with translation.override("vi"):
        name, data = provider_lists.export_list(
            actor=preparer_a, cycle=approved, commune=tree.a, channel=Channel.ACCOUNT
        )
    assert name.endswith(".xlsx")
    ws = _sheet(data)
    texts = _texts(ws)
    joined = " ".join(texts)
    assert "DANH SÁCH CHI TRẢ" in joined and "03/2026" in joined and tree.a.name in joined
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "STT")
    assert list(header[:4]) == ["STT", "Họ tên người hưởng", "Người nhận", "Số CCCD người nhận"]
    line = PayrollLine.objects.get(cycle=approved, beneficiary=people["account"])
    data_rows = [r for r in ws.iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(data_rows) == 1
    assert data_rows[0][1] == "Trần Văn Tài Khoản" and data_rows[0][5] == "•••• 6789" and data_rows[0][6] == line.amount
    total = next(r for r in ws.iter_rows(values_only=True) if r[1] == "Tổng cộng")
    assert total[6] == line.amount
    for code_ in Category.objects.values_list("code", flat=True):
        assert code_ not in joined
    assert "HIV" not in joined and "D20" not in joined
    assert AuditEvent.objects.filter(action="payroll.provider_list.exported", actor=preparer_a).count() == 1


def test_pay_point_list_cccd_masking_and_signature(approved, people, preparer_a, provider_a, tree):
    with translation.override("vi"):
        _n, full = provider_lists.export_list(
            actor=preparer_a, cycle=approved, commune=tree.a, channel=Channel.PAY_POINT
        )
        _n, masked = provider_lists.export_list(
            actor=provider_a, cycle=approved, commune=tree.a, channel=Channel.PAY_POINT
        )
    ws = _sheet(full)
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "STT")
    assert header[4] == "Thôn/ấp" and header[7] == "Ký nhận"
    row = next(r for r in ws.iter_rows(values_only=True) if isinstance(r[0], int))
    assert row[2] == "Nguyễn Văn Con" and row[3] == CCCD_REP and row[4] == tree.village_a.name
    row = next(r for r in _sheet(masked).iter_rows(values_only=True) if isinstance(r[0], int))
    assert row[3] == "********1234"


def test_home_list_grouped_by_village_and_zip(approved, people, preparer_a, tree):
    with translation.override("vi"):
        _n, data = provider_lists.export_list(actor=preparer_a, cycle=approved, commune=tree.a, channel=Channel.HOME)
        texts = _texts(_sheet(data))
        assert tree.village_a.name in texts and "Cộng thôn/ấp" in texts
        name, archive = provider_lists.export_zip(actor=preparer_a, cycle=approved)
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert len(z.namelist()) == 3


def test_lists_need_an_approved_payroll(cycle, preparer_a, tree):
    with pytest.raises(provider_lists.ListRefused):
        provider_lists.export_list(actor=preparer_a, cycle=cycle, commune=tree.a, channel=Channel.ACCOUNT)


def test_a_fix_to_cash_moves_the_line_to_the_pay_point_list(approved, people, preparer_a, approver_a, device, tree):
    line = PayrollLine.objects.get(cycle=approved, beneficiary=people["account"])
    fix = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="Thẻ bị khóa")
    fixes.approve_fix(actor=approver_a, fix=fix, token=code(device, 1))
    rows = list(provider_lists.rows(approved, tree.a.pk, Channel.PAY_POINT, full_cccd=True))
    assert {r.beneficiary for r in rows} == {"Trần Văn Tài Khoản", "Lê Thị Điểm Chi"}
    assert not list(provider_lists.rows(approved, tree.a.pk, Channel.ACCOUNT, full_cccd=True))


# --- pages and API ------------------------------------------------------------------------------------


def test_the_cycle_page_offers_approval_to_the_approver_and_explains_to_the_preparer(
    cycle, approver_a, preparer_a, device, client_for
):
    page = client_for(preparer_a).get(f"/payroll/cycles/{cycle.pk}/").content.decode()
    assert 'data-form="payroll-withdraw"' in page and 'data-form="payroll-approve"' not in page
    assert 'name="to_state" value="approved"' not in page  # approval has its own form
    page = client_for(approver_a).get(f"/payroll/cycles/{cycle.pk}/").content.decode()
    assert 'data-form="payroll-approve"' in page and 'data-form="payroll-withdraw"' not in page
    r = client_for(approver_a).post(f"/payroll/cycles/{cycle.pk}/approve/", {"token": code(device)})
    assert r.status_code == 302
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPROVED
    page = client_for(approver_a).get(f"/payroll/cycles/{cycle.pk}/").content.decode()
    assert PayrollApproval.objects.get(cycle=cycle).content_hash in page
    assert 'data-download="zip"' in page


def test_the_preparer_with_both_roles_sees_why(cycle, preparer_a, tree, client_for):
    RoleAssignment.objects.create(user=preparer_a, role=Role.APPROVER, area=tree.a)
    access.forget(preparer_a)
    with translation.override("vi"):
        page = client_for(preparer_a).get(f"/payroll/cycles/{cycle.pk}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "data-blockers" in page and 'data-form="payroll-approve"' not in page


def test_web_withdraw_fix_and_lists(approved, people, preparer_a, approver_a, provider_a, viewer_a, device, client_for):
    line = PayrollLine.objects.get(cycle=approved, beneficiary=people["account"])
    web = client_for(preparer_a)
    page = web.get(f"/payroll/cycles/{approved.pk}/?fix_line={line.pk}").content.decode()
    assert 'data-form="fix-request"' in page and 'data-link="fix-line"' in page
    r = web.post(
        f"/payroll/cycles/{approved.pk}/fixes/request/", {"line": line.pk, "kind": "to_cash", "reason": "Thẻ khóa"}
    )
    assert r.status_code == 302
    fix = LineFix.objects.get(line=line)
    web = client_for(approver_a)
    r = web.post(
        f"/payroll/cycles/{approved.pk}/fixes/decide/", {"fix": fix.pk, "decision": "approve", "token": code(device, 1)}
    )
    fix.refresh_from_db()
    assert fix.state == FixState.APPROVED
    r = client_for(provider_a).get(
        f"/payroll/cycles/{approved.pk}/provider-lists/?commune={line.commune_id}&channel=pay_point"
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert client_for(viewer_a).get(f"/payroll/cycles/{approved.pk}/provider-lists/").status_code == 403


def test_api_approval_fixes_and_lists(cycle, people, approver_a, preparer_a, device, api_client_for):
    api = api_client_for(approver_a)
    r = api.get(f"/api/v1/payroll/cycles/{cycle.pk}/approval")
    assert r.status_code == 200 and r.json()["approved"] is False and r.json()["blockers"] == []
    r = api.post(f"/api/v1/payroll/cycles/{cycle.pk}/approve", {"token": "000000"}, content_type="application/json")
    assert r.status_code == 422
    r = api.post(f"/api/v1/payroll/cycles/{cycle.pk}/approve", {"token": code(device)}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["content_hash"] == PayrollApproval.objects.get(cycle=cycle).content_hash
    prep = api_client_for(preparer_a)
    assert (
        prep.post(
            f"/api/v1/payroll/cycles/{cycle.pk}/approve", {"token": "1"}, content_type="application/json"
        ).status_code
        == 403
    )
    line = PayrollLine.objects.get(cycle=cycle, beneficiary=people["account"])
    r = prep.post(
        f"/api/v1/payroll/cycles/{cycle.pk}/fixes",
        {"line_id": line.pk, "kind": "to_cash", "reason": "Thẻ khóa"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    fix_id = r.json()["id"]
    r = api.post(
        f"/api/v1/payroll/cycles/{cycle.pk}/fixes/reject",
        {"fix_id": fix_id, "reason": "Không cần"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    r = prep.get(f"/api/v1/payroll/cycles/{cycle.pk}/provider-lists")
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    r = prep.get(f"/api/v1/payroll/cycles/{cycle.pk}/provider-lists?channel=home")
    assert r.status_code == 422


def test_approval_events_read_as_vietnamese(approved, people, preparer_a, approver_a, device, tree):
    from tests.web.test_audit_text import ENGLISH, RAW, rendered_texts

    line = PayrollLine.objects.get(cycle=approved, beneficiary=people["account"])
    fix = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.TO_CASH, reason="Thẻ bị khóa")
    fixes.approve_fix(actor=approver_a, fix=fix, token=code(device, 1))
    fix = fixes.request_fix(actor=preparer_a, line=line, kind=FixKind.RESEND, account=people["acc"], reason="Mở lại")
    fixes.reject_fix(actor=approver_a, fix=fix, reason="Chưa cần")
    provider_lists.export_zip(actor=preparer_a, cycle=approved)
    events = list(AuditEvent.objects.filter(action__startswith="payroll.").select_related("actor").order_by("id"))
    actions = {e.action for e in events}
    assert {"payroll.payroll.approved", "payroll.fix.requested", "payroll.fix.approved"} <= actions
    assert {"payroll.fix.rejected", "payroll.provider_list.exported"} <= actions
    mine = ("payroll.payroll.approved", "payroll.provider_list.exported", "payroll.fix.")
    texts = rendered_texts([e for e in events if e.action.startswith(mine)], approver_a)
    joined = "\n".join(texts)
    assert "phê duyệt danh sách chi trả tháng 03/2026" in joined
    assert "Chi tiền mặt trong tháng này" in joined
    for text in texts:
        assert not ENGLISH.search(text), text
        assert not any(p.search(text) for p in RAW), text
