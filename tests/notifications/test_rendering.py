import pytest
from django.utils import translation

from ansinh.notifications import sms
from ansinh.notifications.services import NotificationError, render
from ansinh.notifications.templates import TEMPLATES

from .conftest import VARS

pytestmark = pytest.mark.django_db


def test_plain_ascii_is_gsm7_and_kept():
    out = sms.prepare("ANSINH: xin chao", max_segments=1)
    assert (out.text, out.encoding, out.segments) == ("ANSINH: xin chao", "gsm7", 1)


def test_diacritics_are_stripped_only_when_they_break_gsm7():
    out = sms.prepare("Trợ cấp tháng 10 của bà Đặng Thị Ánh đã sẵn sàng", max_segments=2)
    assert out.encoding == "gsm7"
    assert out.text == "Tro cap thang 10 cua ba Dang Thi Anh da san sang"
    # è and é are in the GSM alphabet: nothing to strip
    assert sms.prepare("café crème", max_segments=1).text == "café crème"


def test_segments_are_counted_at_the_gsm7_and_ucs2_boundaries():
    assert sms.prepare("a" * 160, max_segments=1).segments == 1
    assert sms.prepare("a" * 161, max_segments=3).segments == 2
    assert sms.prepare("a" * 306, max_segments=3).segments == 2
    assert sms.prepare("a" * 307, max_segments=3).segments == 3
    assert sms.septets("€") == 2  # an extension character costs two septets
    assert sms.prepare("€" * 80, max_segments=1).segments == 1
    assert sms.prepare("€" * 81, max_segments=2).segments == 2
    # keeping the diacritics costs UCS-2: 70 per segment, 67 when split
    kept = sms.prepare("ữ" * 70, max_segments=2, keep_diacritics=True)
    assert (kept.encoding, kept.segments) == ("ucs2", 1)
    assert sms.prepare("ữ" * 71, max_segments=2, keep_diacritics=True).segments == 2
    # a character with no GSM form at all stays UCS-2
    assert sms.prepare("Giá 5 ₫ 中", max_segments=1).encoding == "ucs2"


def test_a_text_over_the_segment_limit_is_refused():
    with pytest.raises(ValueError, match="more than the limit of 2"):
        sms.prepare("a" * 307, max_segments=2)


def test_templates_render_in_vietnamese_whatever_the_active_language():
    with translation.override("en"):
        text = render("account.changed", VARS)
    assert "Tài khoản nhận trợ cấp của Nguyễn Thị Ánh" in text
    assert "Agribank ******4321" in text and "10/2026" in text


def test_every_template_fits_the_limit_without_diacritics_with_long_values():
    long_values = {
        "name": "Nguyễn Thị Phương Thảo Quỳnh",
        "institution": "Ngân hàng Nông nghiệp và Phát triển Nông thôn",
        "account": "**********1234",
        "month": "12/2026",
        "hotline": "0296 3861 234",
        "amount": "1.500.000",
        "place": "Bưu điện xã Châu Phú A",
        "task": "Danh sách chi trả đã thẩm định và đề nghị tạm ứng",  # payment-cycle reminders
        "date": "04/12/2026",
        "how": "Rút tại ATM hoặc quầy giao dịch gần nhất",  # settings.ANSINH_SMS_WITHDRAW_HINT
        "reference": "KN-2026-000123",  # a complaint answered (complaints)
        "outcome": "không chấp nhận",
        "what": "đã chuyển đi",  # a cash list closed with a person not paid (cashout.closing)
        "code": "123456",  # the public status lookup's one-time code (lookup.services)
        "minutes": "10",
    }
    for key, tpl in TEMPLATES.items():
        text = render(key, {k: long_values[k] for k in tpl.variables})
        out = sms.prepare(text, max_segments=2)
        assert out.encoding == "gsm7", key
        assert "%(" not in out.text, key


def test_variables_must_be_exactly_those_of_the_template():
    with pytest.raises(NotificationError, match="missing"):
        render("account.changed", {k: v for k, v in VARS.items() if k != "month"})
    with pytest.raises(NotificationError, match="not taken"):
        render("account.changed", {**VARS, "category": "D20.5.6"})
    with pytest.raises(ValueError, match="unknown notification template"):
        render("no.such.template", {})


def test_no_template_takes_a_category_or_health_variable():
    for key, tpl in TEMPLATES.items():
        assert not tpl.variables & {"category", "categories", "programme", "condition", "reason", "diagnosis"}, key


@pytest.mark.django_db
def test_category_like_values_are_refused(policy):
    from ansinh.policy.models import Category

    sensitive = Category.objects.filter(sensitive=True).first()
    assert sensitive is not None
    for value in ("Người nhiễm HIV", "hiv", sensitive.code, sensitive.name_vi):
        with pytest.raises(NotificationError, match="looks like a category"):
            render("account.changed", {**VARS, "name": value})
