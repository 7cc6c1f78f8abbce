"""Every payment-cycle action reads as a Vietnamese sentence in the audit log."""

from __future__ import annotations

from datetime import date

from ansinh.audit.models import AuditEvent
from ansinh.payroll import services
from ansinh.payroll.models import ContractPurpose, DeadlineKind, FeeKind, PaymentCycle
from tests.web.test_audit_text import ENGLISH, RAW, rendered_texts

from .conftest import MONTH


def test_payroll_events_read_as_vietnamese(world, tree, officer_a, preparer_a, monkeypatch):
    services.open_cycles(actor=preparer_a, month=MONTH)
    cycle = PaymentCycle.objects.filter(approving_unit=world.unit_a).first()
    monkeypatch.setattr(services, "CHECKS", {})
    services.transition(actor=officer_a, cycle=cycle, to_state="changes_submitted", note="đủ hồ sơ")
    services.update_calendar(
        actor=None,
        province=tree.province,
        data=services.CalendarInput(days=dict.fromkeys(DeadlineKind.values, 5)),
        today=date(2026, 1, 1),
    )
    services.create_contract(
        actor=preparer_a,
        data=services.ContractInput(
            number="HĐ-01/2026",
            paying_unit=world.unit_a,
            provider=world.post,
            areas=[tree.a],
            purpose=ContractPurpose.REGULAR,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
        ),
    )
    events = list(AuditEvent.objects.filter(action__startswith="payroll.").select_related("actor").order_by("id"))
    assert {e.action for e in events} == {
        "payroll.cycles.opened",
        "payroll.cycle.transitioned",
        "payroll.calendar.changed",
        "payroll.contract.created",
    }
    texts = rendered_texts(events, officer_a)
    joined = "\n".join(texts)
    assert "Đang nhận thay đổi" in joined and "Đã gửi danh sách thay đổi" in joined
    assert "5.000 đồng cho mỗi người được chi trả mỗi tháng" in joined
    assert "02/2026" in joined and "01/01/2026" in joined
    for text in texts:
        assert not ENGLISH.search(text), text
        assert not any(p.search(text) for p in RAW), text
