"""The payment notices of the transfer leg (payment.credited, payment.cash_schedule,
payment.failed) and the configurable brand in front of every SMS: Vietnamese, within two GSM-7
segments with long real names, never a category."""

import pytest
from django.db import transaction
from django.utils import translation

from ansinh.core.text import search_key, strip_accents
from ansinh.notifications import services, sms
from ansinh.notifications.models import Channel
from ansinh.notifications.services import FORBIDDEN_WORDS, NotificationError, render
from ansinh.notifications.templates import TEMPLATES

from .conftest import MOBILE, VARS

pytestmark = pytest.mark.django_db

PAYMENT_KEYS = ("payment.credited", "payment.cash_schedule", "payment.failed")

# realistic and long: the longest names of a commune's list, a bank's full name, a pay point
LONG = {
    "name": "Tôn Nữ Thị Phương Thảo Quỳnh Hương",
    "month": "12/2026",
    "amount": "12.345.000",
    "institution": "Ngân hàng Nông nghiệp và Phát triển Nông thôn",
    "account": "*1234",
    "how": "Rút tại ATM hoặc quầy giao dịch gần nhất",
    "date": "15/12/2026",
    "place": "Nhà văn hóa ấp Hòa Long 4, xã Châu Phú A",
    "hotline": "UBND Phường Châu Phú A (0296 3861 234)",
}


def values_for(key: str, values: dict = LONG) -> dict:
    return {k: values[k] for k in TEMPLATES[key].variables}


def test_the_payment_templates_take_what_they_tell():
    assert TEMPLATES["payment.credited"].variables == {"name", "month", "amount", "institution", "account", "how"}
    assert TEMPLATES["payment.cash_schedule"].variables == {"name", "month", "amount", "date", "place"}
    assert TEMPLATES["payment.failed"].variables == {"name", "month", "amount", "hotline"}


def test_the_payment_notices_read_in_vietnamese():
    with translation.override("en"):
        credited = render("payment.credited", values_for("payment.credited"))
        cash = render("payment.cash_schedule", values_for("payment.cash_schedule"))
        failed = render("payment.failed", values_for("payment.failed"))
    assert credited == (
        "ANSINH: Trợ cấp tháng 12/2026 của Tôn Nữ Thị Phương Thảo Quỳnh Hương, 12.345.000 đồng, đã được "
        "chuyển vào tài khoản Ngân hàng Nông nghiệp và Phát triển Nông thôn *1234. "
        "Rút tại ATM hoặc quầy giao dịch gần nhất."
    )
    assert "bằng tiền mặt ngày 15/12/2026 tại Nhà văn hóa ấp Hòa Long 4" in cash
    assert "chưa chuyển được vào tài khoản. Xã sẽ liên hệ lại." in failed
    assert failed.endswith("xin gọi UBND Phường Châu Phú A (0296 3861 234).")


@pytest.mark.parametrize("key", PAYMENT_KEYS)
def test_each_payment_notice_fits_two_gsm7_segments_with_long_names(key):
    out = sms.prepare(render(key, values_for(key)), max_segments=2)
    assert out.encoding == "gsm7" and out.segments <= 2
    assert out.text.startswith("ANSINH: Tro cap thang 12/2026 cua Ton Nu Thi Phuong Thao Quynh Huong")
    assert "%(" not in out.text


@pytest.mark.parametrize("key", PAYMENT_KEYS)
def test_queued_payment_sms_are_stripped_and_counted_with_the_brand(tree, key):
    with transaction.atomic():
        msg = services.queue(
            actor=None, key=key, variables=values_for(key), idempotency_key=key, area=tree.village_a, phone=MOBILE
        )
    assert msg.text == strip_accents(render(key, values_for(key)))
    assert msg.text.startswith("ANSINH: ")
    assert (msg.encoding, msg.segments) == ("gsm7", sms.prepare(msg.text, max_segments=2).segments)


def test_no_template_carries_the_brand_itself():
    for key, tpl in TEMPLATES.items():
        for lang in ("en", "vi"):
            with translation.override(lang):
                assert "ANSINH" not in str(tpl.text), (key, lang)


def test_the_brand_is_a_setting(settings):
    settings.ANSINH_SMS_BRANDNAME = "UBND Chau Phu A"
    assert render("account.opened", {k: VARS[k] for k in ("name", "institution", "account", "hotline")}).startswith(
        "UBND Chau Phu A: Agribank đã mở tài khoản"
    )
    settings.ANSINH_SMS_BRANDNAME = ""
    assert render("payment.failed", values_for("payment.failed")).startswith("Trợ cấp tháng 12/2026")
    # only an SMS carries it: not a message in the application nor the village head's list
    settings.ANSINH_SMS_BRANDNAME = "ANSINH"
    for channel in (Channel.IN_APP, Channel.VILLAGE):
        assert render("payment.failed", values_for("payment.failed"), channel=channel).startswith("Trợ cấp")


def test_the_segments_are_counted_with_the_brand(tree, settings):
    """A text that fits one segment alone but not with the brand in front is refused at one."""
    settings.ANSINH_SMS_MAX_SEGMENTS = 1
    variables = values_for("payment.failed", {**LONG, "name": "Lê Văn Tư", "hotline": "0296 3861 234"})
    body = strip_accents(render("payment.failed", variables, channel=Channel.IN_APP))
    assert len(body) <= 160
    settings.ANSINH_SMS_BRANDNAME = "X" * (160 - len(body))  # brand + ": " makes 162
    with pytest.raises(NotificationError, match="more than the limit of 1"), transaction.atomic():
        services.queue(
            actor=None, key="payment.failed", variables=variables, idempotency_key="k", area=tree.a, phone=MOBILE
        )
    settings.ANSINH_SMS_BRANDNAME = "X" * (158 - len(body))  # exactly 160
    with transaction.atomic():
        msg = services.queue(
            actor=None, key="payment.failed", variables=variables, idempotency_key="k", area=tree.a, phone=MOBILE
        )
    assert len(msg.text) == 160 and msg.segments == 1


def test_no_payment_notice_names_a_category_or_a_health_matter(policy):
    from ansinh.policy.models import Category

    words = {search_key(w) for w in FORBIDDEN_WORDS} | {"benh", "nhiem", "doi tuong", "chinh sach", "bao tro"}
    codes = {search_key(c) for c in Category.objects.values_list("code", flat=True)}
    for key in PAYMENT_KEYS:
        tpl = TEMPLATES[key]
        assert not tpl.variables & {"category", "categories", "programme", "condition", "reason", "diagnosis"}
        for lang in ("en", "vi"):
            with translation.override(lang):
                text = f" {search_key(str(tpl.text))} "
            assert not [w for w in words if f" {w} " in text], (key, lang)
            assert not [c for c in codes if c in text], (key, lang)
    # a value that looks like one is refused, as for every notice
    with pytest.raises(NotificationError, match="looks like a category"):
        render("payment.credited", values_for("payment.credited", {**LONG, "how": "Người nhiễm HIV"}))
