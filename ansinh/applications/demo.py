"""The demo's applications (issue 12, point 7): in the demo's commune, applications in every
state — just sent online, received at the counter, under review, returned for a missing
certificate, posted publicly (one claiming an HIV-related category: the public list shows a
neutral text), and two decided (approved, which created the beneficiary through the registry, and
refused). The people are invented; their CCCDs are structurally valid but belong to nobody.

Everything goes through the services as the demo's commune officer, except that the two decided
applications have their posting moved to the past (a demo cannot wait two working days).
Idempotent: nothing is added when the demo's applications exist."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from ansinh.areas.models import Area, Level, Tree

from . import services
from .files import Upload
from .models import Application

OFFICER = "canbo.xa"
COMMUNE = "30316"  # Phường Châu Đốc (demo.organisations.HOME_COMMUNE)
CLIENT = "demo"
PDF = b"%PDF-1.4\n% du lieu minh hoa\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# name, birth date, gender, serial, category entitlement, what happens
PEOPLE = [
    ("Huỳnh Thị Lệ Minh Họa", date(1943, 3, 14), "female", "901001", "D20.5.5.c||", "submitted"),
    ("Trương Văn Tám Minh Họa", date(1940, 11, 2), "male", "901002", "D20.5.5.c||", "counter"),
    ("Lâm Thị Sáu Minh Họa", date(1978, 6, 20), "female", "901003", "D20.5.6|severe:adult|", "accepted"),
    ("Chau Sóc Khum Minh Họa", date(1969, 1, 9), "male", "901004", "D20.5.6|severe:adult|", "returned"),
    ("Nguyễn Văn Bảy Minh Họa", date(1941, 9, 30), "male", "901005", "D20.5.5.c||", "posted"),
    ("Lê Thị Bé Minh Họa", date(2019, 4, 5), "female", "901006", "D20.5.3||", "posted"),
    ("Phạm Thị Chín Minh Họa", date(1942, 12, 24), "female", "901007", "D20.5.5.c||", "approved"),
    ("Đỗ Văn Mười Minh Họa", date(1965, 5, 5), "male", "901008", "D20.5.5.c||", "refused"),
]


def _cccd(birth: date, gender: str, serial: str) -> str:
    century = (birth.year // 100 - 19) * 2 + (1 if gender == "female" else 0)
    return f"089{century}{birth.year % 100:02d}{serial}"


def _uploads() -> list[Upload]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return [Upload(kind="cccd_copy", file=SimpleUploadedFile("cccd.pdf", PDF))]


def _move_posting_back(app: Application) -> Application:
    """The demo's decided applications were posted two weeks ago."""
    starts, ends = services.posting_period(timezone.localdate() - timedelta(days=14))
    Application.objects.filter(pk=app.pk).update(posting_starts=starts, posting_ends=ends)
    app.refresh_from_db()
    return app


def load_demo_applications() -> dict:
    from ansinh.accounts.models import User

    officer = User.objects.filter(username=OFFICER, is_active=True).first()
    commune = Area.objects.filter(tree=Tree.CURRENT, level=Level.COMMUNE, code=COMMUNE).first()
    if officer is None or commune is None:
        return {"skipped": "the demo's commune officer or commune is missing"}
    if Application.objects.filter(commune=commune, full_name__endswith="Minh Họa").exists():
        return {"created": 0}
    village = Area.objects.filter(level=Level.VILLAGE, parent=commune).order_by("name_key").first()
    today = timezone.localdate()
    created = 0
    for name, birth, gender, serial, entitlement, fate in PEOPLE:
        data = services.ApplicantInput(
            full_name=name,
            birth_date=birth,
            gender=gender,
            cccd=_cccd(birth, gender, serial),
            phone="" if birth.year > 2000 else f"0912{serial}",
            commune_id=commune.pk,
            village_id=village.pk if village else None,
            entitlement=entitlement,
            rep_name="Lê Văn Cha Minh Họa" if birth.year > 2000 else "",
            rep_phone="0987001122" if birth.year > 2000 else "",
            rep_relationship="cha" if birth.year > 2000 else "",
        )
        with transaction.atomic():
            if fate == "counter":
                app = services.submit_at_counter(actor=officer, data=data, uploads=_uploads())
            else:
                app = services.submit_online(data=data, uploads=_uploads(), client=f"{CLIENT}-{serial}")
            if fate == "returned":
                services.review(
                    actor=officer,
                    application=app,
                    outcome="return",
                    comment="Xin bổ sung giấy xác nhận mức độ khuyết tật do UBND xã cấp.",
                )
            elif fate in ("accepted", "posted", "approved", "refused"):
                services.review(actor=officer, application=app, outcome="accept")
            if fate in ("posted", "approved", "refused"):
                services.post_publicly(actor=officer, application=app)
            if fate == "approved":
                services.decide(
                    actor=officer,
                    application=_move_posting_back(app),
                    approve=True,
                    number=f"{serial[-3:]}/QĐ-UBND",
                    signed_on=today,
                    signer="Trần Văn Chủ Minh Họa",
                )
            elif fate == "refused":
                services.decide(
                    actor=officer,
                    application=_move_posting_back(app),
                    approve=False,
                    signed_on=today,
                    reason="Đang hưởng lương hưu hằng tháng, không thuộc đối tượng.",
                )
        created += 1
    return {"created": created}
