"""The demo's complaints (issue 12, point 6), in the demo's commune: one just sent online, one
taken on the phone and being handled by the provider's staff (could not withdraw), one resolved
and linked to a beneficiary's payroll line and transfer exception when the demo has one, one not
accepted, one withdrawn, and one overdue (received weeks ago, still open). The lodgers are
invented. Everything goes through the services as the demo's commune officer and provider staff,
except that the overdue one has its dates moved back (a demo cannot wait ten working days).
Idempotent: nothing is added when the demo's commune already has complaints."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ansinh.accounts.models import User
from ansinh.areas.models import Area, Level, Tree

from . import services
from .deadlines import add_working_days
from .models import Channel, Complaint, Kind, RoutedTo, Topic

OFFICER = "canbo.xa"
PROVIDER = "buudien"
COMMUNE = "30316"  # Phường Châu Đốc (demo.organisations.HOME_COMMUNE)


def _staff(officer, commune, **kw):
    values = {"channel": Channel.PHONE, "kind": Kind.FEEDBACK, "phone": "", "cccd": ""} | kw
    return services.lodge_by_staff(actor=officer, commune=commune, **values)


def load_demo_complaints() -> int:
    """The demo's complaints; how many were added (0 when they exist or the demo has no commune)."""
    commune = Area.objects.filter(tree=Tree.CURRENT, level=Level.COMMUNE, code=COMMUNE).first()
    officer = User.objects.filter(username=OFFICER).first()
    provider = User.objects.filter(username=PROVIDER).first()
    if commune is None or officer is None or Complaint.objects.filter(commune=commune).exists():
        return 0
    with transaction.atomic():
        services.lodge_online(
            client="demo",
            kind=Kind.FEEDBACK,
            topic=Topic.PAY_POINT_SCHEDULE,
            commune_id=commune.pk,
            name="Trần Thị Hoa Minh Họa",
            phone="0912 700 101",
            text="Điểm chi trả ở nhà văn hóa khóm mở cửa muộn, người già phải chờ lâu ngoài nắng.",
        )
        withdraw = _staff(
            officer,
            commune,
            topic=Topic.CANNOT_WITHDRAW,
            name="Lý Văn Rút Minh Họa",
            phone="0912 700 102",
            text="Ra bưu điện nhưng không rút được tiền vì không nhận được mã OTP qua tin nhắn.",
        )
        if provider is not None:
            services.assign(actor=officer, complaint=withdraw, assignee=provider)
        resolved = _staff(
            officer,
            commune,
            channel=Channel.COUNTER,
            kind=Kind.COMPLAINT,
            topic=Topic.NOT_PAID,
            name="Nguyễn Thị Nhận Minh Họa",
            phone="0912 700 103",
            text="Tháng trước chưa nhận được tiền chuyển khoản, tài khoản không thấy tiền về.",
        )
        _link_a_rejected_transfer(officer, resolved)
        services.assign(actor=officer, complaint=resolved, assignee=officer)
        services.resolve(
            actor=officer,
            complaint=resolved,
            resolution="Ngân hàng trả lại do sai số tài khoản; đã chuyển sang chi tiền mặt tại điểm chi trả tháng này.",
        )
        rejected = _staff(
            officer,
            commune,
            kind=Kind.COMPLAINT,
            topic=Topic.WRONG_AMOUNT,
            name="Phạm Văn Mức Minh Họa",
            text="Số tiền trợ cấp tháng này thấp hơn người cùng khóm.",
        )
        services.reject(
            actor=officer,
            complaint=rejected,
            resolution="Mức trợ cấp đúng theo hệ số của đối tượng trong quyết định; đã giải thích cho ông.",
        )
        withdrawn = _staff(
            officer,
            commune,
            topic=Topic.OTHER,
            name="Võ Thị Rút Đơn Minh Họa",
            text="Hỏi lịch chi trả tháng này; đã được cán bộ khóm báo lại.",
        )
        services.withdraw(actor=officer, complaint=withdrawn, note="Bà đã nhận được thông tin.")
        late = _staff(
            officer,
            commune,
            topic=Topic.REGISTRY_DATA,
            name="Đặng Văn Sửa Minh Họa",
            phone="0912 700 106",
            text="Ngày sinh trong danh sách chi trả bị sai so với căn cước.",
        )
        received = timezone.localdate() - timedelta(days=30)
        Complaint.objects.filter(pk=late.pk).update(
            received_on=received, due_on=add_working_days(received, 10), created_at=timezone.now() - timedelta(days=30)
        )
    return 6


def _link_a_rejected_transfer(officer, complaint: Complaint) -> None:
    """Link the complaint to a rejected transfer of the commune, if the demo made one."""
    from ansinh.disbursement.models import TransferException

    exc = (
        TransferException.objects.filter(commune=complaint.commune, line__beneficiary__commune=complaint.commune)
        .select_related("line__beneficiary")
        .order_by("id")
        .first()
    )
    if exc is None or exc.line is None:
        return
    services.identify(actor=officer, complaint=complaint, beneficiary=exc.line.beneficiary)
    services.link_records(actor=officer, complaint=complaint, lines=[exc.line], exceptions=[exc])


# --- the complaints about the cash pay-out (after ansinh.cashout.demo) ----------------------------

CASH_MARKER = "Lâm Thị Lịch Minh Họa"  # the first of them: present once they were loaded


def load_demo_cash_complaints() -> int:
    """Six complaints about the demo's cash pay-out, in the demo's commune, linked to its records
    where there is one: a person who could not withdraw (phone, handed to the provider's staff, in
    progress, linked to the office's "could not withdraw" exception), a person absent at the pay
    point (counter, resolved: the month is paid next month as arrears), a refusal over the amount
    (counter, not accepted), a request for a Saturday pay day (phone, resolved by the provider),
    the conduct of the home-delivery staff (online, just sent) and a home delivery not yet made
    this month (online, being handled). Through the services, as the demo's commune officer and
    provider staff. Idempotent: nothing is added once they exist; 0 without the cash demo."""
    from ansinh.cashout.models import CashEntry, Withdrawal
    from ansinh.disbursement.models import ExceptionKind, TransferException

    commune = Area.objects.filter(tree=Tree.CURRENT, level=Level.COMMUNE, code=COMMUNE).first()
    officer = User.objects.filter(username=OFFICER).first()
    provider = User.objects.filter(username=PROVIDER).first()
    if commune is None or officer is None or provider is None:
        return 0
    if Complaint.objects.filter(commune=commune, name=CASH_MARKER).exists():
        return 0
    cannot = Withdrawal.objects.filter(commune=commune, outcome="cannot").select_related("beneficiary").order_by("pk")
    returned = CashEntry.objects.filter(commune=commune, state="returned").select_related("beneficiary")
    absent = returned.filter(not_paid_reason="absent", owed=True).order_by("pk").first()
    refused = returned.filter(not_paid_reason="refused").order_by("pk").first()
    if not cannot.exists() and absent is None:
        return 0  # no cash demo to complain about
    made = 0
    with transaction.atomic():
        services.lodge_online(
            client="demo-cash",
            kind=Kind.FEEDBACK,
            topic=Topic.STAFF_CONDUCT,
            commune_id=commune.pk,
            name=CASH_MARKER,
            phone="0912 700 201",
            text="Nhân viên chi trả tại nhà đến muộn hơn giờ hẹn gần hai tiếng, không báo trước cho gia đình.",
        )
        made += 1
        home = services.lodge_online(
            client="demo-cash",
            kind=Kind.COMPLAINT,
            topic=Topic.NOT_PAID,
            commune_id=commune.pk,
            name="Trịnh Văn Đợi Minh Họa",
            phone="0912 700 202",
            text="Mẹ tôi được chi trả tại nhà nhưng tháng này chưa thấy nhân viên bưu điện đến.",
        )
        services.assign(actor=officer, complaint=home, assignee=provider, routed_to=RoutedTo.PROVIDER)
        made += 1
        withdrawal = cannot.first()
        if withdrawal is not None:
            b = withdrawal.beneficiary
            c = _staff(
                officer,
                commune,
                kind=Kind.COMPLAINT,
                topic=Topic.CANNOT_WITHDRAW,
                name=b.full_name,
                cccd=b.cccd,
                text="Ra điểm chi trả nhưng không rút được tiền trợ cấp trong tài khoản, đề nghị hỗ trợ.",
            )
            exc = TransferException.objects.filter(
                kind=ExceptionKind.CANNOT_WITHDRAW, instruction_id=withdrawal.instruction_id or 0
            ).first()
            if c.beneficiary_id is None:
                services.identify(actor=officer, complaint=c, beneficiary=b)
            if exc is not None:
                services.link_records(actor=officer, complaint=c, lines=[exc.line], exceptions=[exc])
            services.assign(actor=officer, complaint=c, assignee=provider)
            made += 1
        if absent is not None:
            b = absent.beneficiary
            c = _staff(
                officer,
                commune,
                channel=Channel.COUNTER,
                kind=Kind.COMPLAINT,
                topic=Topic.NOT_PAID,
                name=b.full_name,
                cccd=b.cccd,
                text="Tháng trước đi khám bệnh ở tỉnh nên không nhận được tiền tại điểm chi trả.",
            )
            if c.beneficiary_id is None:
                services.identify(actor=officer, complaint=c, beneficiary=b)
            services.link_records(actor=officer, complaint=c, lines=[el.line for el in absent.entry_lines.all()])
            services.resolve(
                actor=officer,
                complaint=c,
                resolution="Khoản chưa nhận đã được hoàn trả và sẽ được truy lĩnh trong danh sách chi trả tháng sau.",
            )
            made += 1
        if refused is not None:
            b = refused.beneficiary
            c = _staff(
                officer,
                commune,
                channel=Channel.COUNTER,
                kind=Kind.COMPLAINT,
                topic=Topic.WRONG_AMOUNT,
                name=b.full_name,
                cccd=b.cccd,
                text="Không nhận tiền vì cho rằng mức trợ cấp thấp hơn năm trước.",
            )
            if c.beneficiary_id is None:
                services.identify(actor=officer, complaint=c, beneficiary=b)
            services.link_records(actor=officer, complaint=c, lines=[el.line for el in refused.entry_lines.all()])
            services.reject(
                actor=officer,
                complaint=c,
                resolution="Mức trợ cấp đúng theo quyết định hưởng; đã giải thích, tháng sau nhận cả khoản tháng này.",
            )
            made += 1
        saturday = _staff(
            provider,
            commune,
            topic=Topic.PAY_POINT_SCHEDULE,
            name="Hồ Văn Thứ Bảy Minh Họa",
            phone="0912 700 206",
            text="Đề nghị điểm chi trả mở thêm sáng thứ Bảy cho người đi làm thuê ngày thường.",
        )
        services.resolve(
            actor=provider,
            complaint=saturday,
            resolution="Bưu điện mở thêm buổi sáng thứ Bảy tại bưu điện văn hóa từ tháng sau.",
        )
        made += 1
    return made
