"""The payees' notices of the transfer leg (ansinh.disbursement.notices, issue 11 part 5): one
"credited" or "failed" notice per instruction, to the payee (the representative when the line has
one), by SMS or on the village head's list; idempotent, bounded in queries, never a category."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ansinh.accounts.models import OrgKind
from ansinh.accounts.services import create_org_unit
from ansinh.audit.models import AuditEvent
from ansinh.core.text import search_key
from ansinh.disbursement import notices
from ansinh.disbursement.models import Instruction, InstructionState, ProviderBatch
from ansinh.notifications import services as outbox
from ansinh.notifications.models import Channel, Message, MessageStatus
from ansinh.payments.models import Institution, ReceivingAccount
from ansinh.payroll.models import ContractPurpose, FeeKind, PaymentCycle, PayrollLine, ProviderContract
from ansinh.policy.models import Category, Programme
from ansinh.registry.models import Beneficiary, Representation, Representative

pytestmark = pytest.mark.django_db

MONTH = date(2026, 10, 1)
MOBILE = "+84912345678"
REP_MOBILE = "+84987654321"
LANDLINE = "+842963861234"


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.ANSINH_SMS_BRANDNAME = "ANSINH"
    settings.ANSINH_SMS_MAX_SEGMENTS = 2
    settings.ANSINH_SMS_GATEWAY = "sandbox"
    settings.ANSINH_SMS_WINDOW = ("00:00", "00:00")
    settings.ANSINH_HOTLINE = ""
    settings.ANSINH_SMS_WITHDRAW_HINT = "Rút tại ATM hoặc quầy giao dịch gần nhất"


class Leg:
    """A cycle of commune A with one provider batch, to which `add` appends instructions."""

    def __init__(self, tree):
        self.tree = tree
        unit = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND Châu Phú A", area=tree.a)
        post = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name="Bưu điện Châu Đốc", area=tree.district)
        self.cycle = PaymentCycle.objects.create(
            approving_unit=unit,
            programme=Programme.objects.order_by("pk").first(),
            month=MONTH,
            area=tree.a,
            area_path=tree.a.path,
        )
        contract = ProviderContract.objects.create(
            number="HĐ-01/2026",
            paying_unit=unit,
            provider=post,
            area_path=tree.a.path,
            purpose=ContractPurpose.REGULAR,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            fee_kind=FeeKind.FLAT,
        )
        self.batch = ProviderBatch.objects.create(
            cycle=self.cycle,
            provider=post,
            contract=contract,
            message_id="ANSINH-TEST-1",
            approval_hash="0" * 64,
            area_path=tree.a.path,
            created_at=timezone.now(),
        )
        self.bank = Institution.objects.get(code="VBA")
        self.n = 0

    def add(self, name, *, phone="", village=True, rep_phone=None, amount=1_500_000, **flags) -> Instruction:
        self.n += 1
        tree = self.tree
        where = tree.village_a if village else tree.a
        b = Beneficiary.objects.create(
            full_name=name,
            name_key=search_key(name),
            birth_date=date(1944, 1, 1),
            gender="female",
            phone=phone,
            commune=tree.a,
            village=tree.village_a if village else None,
            area_path=where.path,
            start_month=date(2025, 1, 1),
            **flags,
        )
        link = None
        if rep_phone is not None:
            rep = Representative.objects.create(
                full_name=f"Người giám hộ {self.n}", phone=rep_phone, commune=tree.a, area_path=tree.a.path
            )
            link = Representation.objects.create(beneficiary=b, representative=rep, kind="guardian", is_payee=True)
        last4 = f"{self.n:04d}"
        account = ReceivingAccount.objects.create(
            beneficiary=b,
            kind="bank",
            institution=self.bank,
            number_encrypted="x",
            number_hash=f"{self.n:064d}",
            last4=last4,
            holder_name=name.upper(),
            status="active",
        )
        line = PayrollLine.objects.create(
            cycle=self.cycle,
            beneficiary=b,
            amount=amount,
            representation=link,
            payee_name=link.representative.full_name if link else name,
            channel="account",
            account=account,
            account_institution="VBA",
            account_last4=last4,
            area_path=where.path,
            commune=tree.a,
        )
        return Instruction.objects.create(
            batch=self.batch,
            line=line,
            end_to_end_id=f"E2E-{self.n}",
            amount=amount,
            creditor_name=name.upper(),
            account=account,
            institution_code="VBA",
            institution_bin="970405",
            account_last4=last4,
            remittance=f"Tro cap thang {MONTH:%m/%Y}",
            state=InstructionState.CREDITED,
            commune=tree.a,
            area_path=tree.a.path,
        )


@pytest.fixture
def leg(tree, policy):
    return Leg(tree)


@pytest.fixture
def payees(leg):
    return {
        "sms": leg.add("Nguyễn Thị Phương Thảo Quỳnh", phone=MOBILE),
        "rep": leg.add("Trần Văn Được Giám Hộ", rep_phone=REP_MOBILE),
        "khmer": leg.add("Thạch Thị Sa Rây", phone=MOBILE, cannot_read_vietnamese=True),
        "no_phone": leg.add("Lê Văn Không Máy", phone=MOBILE, no_phone=True),
        "empty": leg.add("Phạm Thị Trống", phone=""),
        "landline": leg.add("Võ Văn Bàn", phone=LANDLINE),
        "rep_without_phone": leg.add("Đặng Thị Có Người Nhận", phone=MOBILE, rep_phone=""),
        "commune": leg.add("Chau Sóc Khon", phone="", village=False),
    }


def ids(payees, *keys):
    return [payees[k].pk for k in (keys or payees)]


def by_instruction(prefix: str) -> dict[int, Message]:
    rows = Message.objects.filter(idempotency_key__startswith=prefix)
    return {int(m.idempotency_key.rsplit(".", 1)[1]): m for m in rows}


def test_credited_notices_go_to_the_payee_by_sms_or_on_the_village_list(
    payees, tree, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        assert notices.notify_credited(actor=None, instruction_ids=ids(payees)) == len(payees)
    assert len(callbacks) == 1  # the SMS are handed to the worker once, after the commit
    sent = by_instruction("disb.credited.")
    assert set(sent) == set(ids(payees))

    sms = sent[payees["sms"].pk]
    assert (sms.channel, sms.phone, sms.status) == (Channel.SMS, MOBILE, MessageStatus.QUEUED)
    assert sms.template_key == "payment.credited" and sms.idempotency_key == f"disb.credited.{payees['sms'].pk}"
    assert sms.text == (
        "ANSINH: Tro cap thang 10/2026 cua Nguyen Thi Phuong Thao Quynh, 1.500.000 dong, da duoc chuyen vao "
        "tai khoan Agribank *0001. Rut tai ATM hoac quay giao dich gan nhat."
    )
    assert (sms.encoding, sms.segments) == ("gsm7", 2)
    assert sms.beneficiary_id == payees["sms"].line.beneficiary_id and sms.representative_id is None
    assert sms.area == tree.village_a

    rep = sent[payees["rep"].pk]  # the representative is paid: the SMS is theirs
    assert (rep.channel, rep.phone) == (Channel.SMS, REP_MOBILE)
    assert rep.representative_id == payees["rep"].line.representation.representative_id and rep.beneficiary_id is None
    assert "cua Tran Van Duoc Giam Ho" in rep.text  # whose allowance: the beneficiary's

    for key in ("khmer", "no_phone", "empty", "landline", "rep_without_phone", "commune"):
        msg = sent[payees[key].pk]
        assert (msg.channel, msg.status, msg.segments) == (Channel.VILLAGE, MessageStatus.QUEUED, 0), key
        assert msg.text.startswith("Trợ cấp tháng 10/2026 của "), key  # read out: diacritics, no brand
    assert sent[payees["khmer"].pk].area == tree.village_a
    assert sent[payees["commune"].pk].area == tree.a  # village unknown: the commune's list
    assert sent[payees["rep_without_phone"].pk].representative_id is not None

    assert AuditEvent.objects.filter(action="notifications.queued").count() == len(payees)
    assert set(Instruction.objects.values_list("notified", flat=True)) == {True}
    # only the SMS leave; the village list waits for the village head
    assert outbox.send_due().sent == 2


def test_notifying_twice_queues_once(payees):
    with transaction.atomic():
        assert notices.notify_credited(actor=None, instruction_ids=ids(payees, "sms", "khmer")) == 2
    with transaction.atomic():
        assert notices.notify_credited(actor=None, instruction_ids=ids(payees, "sms", "khmer")) == 0
        assert notices.notify_credited(actor=None, instruction_ids=ids(payees) + ids(payees, "rep")) == len(payees) - 2
        assert notices.notify_credited(actor=None, instruction_ids=[]) == 0
    assert Message.objects.count() == len(payees)
    # a failed notice is another notice (its own key)
    with transaction.atomic():
        assert notices.notify_failed(actor=None, instruction_ids=ids(payees, "sms")) == 1
        assert notices.notify_failed(actor=None, instruction_ids=ids(payees, "sms")) == 0
    assert Message.objects.count() == len(payees) + 1


def test_failed_notices_say_what_happens_and_whom_to_call(payees, settings):
    with transaction.atomic():
        assert notices.notify_failed(actor=None, instruction_ids=ids(payees, "sms", "khmer")) == 2
    failed = by_instruction("disb.failed.")
    sms = failed[payees["sms"].pk]
    assert sms.template_key == "payment.failed" and sms.idempotency_key == f"disb.failed.{payees['sms'].pk}"
    # whom to call: the commune's People's Committee when no hotline is configured
    assert sms.text == (
        "ANSINH: Tro cap thang 10/2026 cua Nguyen Thi Phuong Thao Quynh, 1.500.000 dong, chua chuyen duoc "
        "vao tai khoan. Xa se lien he lai. Can hoi, xin goi UBND Chau Phu A."
    )
    assert failed[payees["khmer"].pk].channel == Channel.VILLAGE
    assert failed[payees["khmer"].pk].text.endswith("Cần hỏi, xin gọi UBND Châu Phú A.")
    settings.ANSINH_HOTLINE = "0296 3861 234"
    with transaction.atomic():
        notices.notify_failed(actor=None, instruction_ids=ids(payees, "rep"))
    assert by_instruction("disb.failed.")[payees["rep"].pk].text.endswith("xin goi 0296 3861 234.")


def test_no_notice_names_the_category(payees, policy):
    with transaction.atomic():
        notices.notify_credited(actor=None, instruction_ids=ids(payees))
        notices.notify_failed(actor=None, instruction_ids=ids(payees))
    words = {"hiv", "aids", "doi tuong", "bao tro", "benh", "nhiem"}
    categories = set()
    for code, vi, en in Category.objects.values_list("code", "name_vi", "name_en"):
        categories |= {search_key(v) for v in (code, vi, en) if v}
    texts = [search_key(t) for t in Message.objects.values_list("text", flat=True)]
    assert len(texts) == 2 * len(payees)
    for text in texts:
        padded = f" {text} "
        assert not [w for w in words if f" {w} " in padded], text
        assert not [c for c in categories if c in text], text


def test_long_names_and_amounts_stay_within_two_segments(leg):
    ins = leg.add("Tôn Nữ Thị Phương Thảo Quỳnh Hương Giang", phone=MOBILE, amount=12_345_000)
    with transaction.atomic():
        notices.notify_credited(actor=None, instruction_ids=[ins.pk])
        notices.notify_failed(actor=None, instruction_ids=[ins.pk])
    for msg in Message.objects.all():
        assert msg.encoding == "gsm7" and msg.segments <= 2 and "12.345.000 dong" in msg.text


def test_queries_do_not_grow_with_the_instructions(leg, monkeypatch):
    few = [leg.add(f"Người Thứ {i}", phone=MOBILE).pk for i in range(3)]
    many = [leg.add(f"Người Khác {i}", phone=MOBILE if i % 2 else "").pk for i in range(40)]

    def count(instruction_ids):
        with CaptureQueriesContext(connection) as ctx, transaction.atomic():
            notices.notify_credited(actor=None, instruction_ids=instruction_ids)
        return len(ctx.captured_queries)

    assert count(few) == count(many) <= 20
    # in chunks: a few queries per chunk, never one per instruction
    monkeypatch.setattr(notices, "CHUNK", 10)
    more = [leg.add(f"Người Sau {i}", phone=MOBILE).pk for i in range(40)]
    assert count(more) <= 4 * 11 + 8  # 4 chunks of 10
    assert Message.objects.count() == 83


def test_nothing_is_queued_when_the_callers_transaction_rolls_back(payees):
    with pytest.raises(RuntimeError), transaction.atomic():
        notices.notify_credited(actor=None, instruction_ids=ids(payees))
        raise RuntimeError
    assert not Message.objects.exists()
    assert set(Instruction.objects.values_list("notified", flat=True)) == {False}


def test_short_institution_names():
    assert notices.short_institution("LPBank (ex LienVietPostBank)") == "LPBank"
    assert notices.short_institution("Agribank") == "Agribank"
