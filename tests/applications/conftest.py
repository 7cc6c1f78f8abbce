"""Builders for the application tests: a valid applicant, small files of each allowed type, and a
way to move "today" (services and the registry read `django.utils.timezone.localdate`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ansinh.applications.files import Upload
from ansinh.applications.services import ApplicantInput
from ansinh.payroll.calendar import is_working_day
from tests.factories import cccd_for

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
BIRTH = date(1944, 2, 10)


def upload(kind="cccd_copy", name="cccd.pdf", content=PDF) -> Upload:
    return Upload(kind=kind, file=SimpleUploadedFile(name, content))


@pytest.fixture
def applicant(tree, policy):
    def _make(**overrides) -> ApplicantInput:
        birth = overrides.pop("birth_date", BIRTH)
        gender = overrides.pop("gender", "female")
        values = {
            "full_name": "Trần Thị Nộp Đơn",
            "birth_date": birth,
            "gender": gender,
            "cccd": cccd_for(birth, gender, "550001"),
            "phone": "0912345678",
            "commune_id": tree.a.pk,
            "village_id": tree.village_a.pk,
            "address": "12 đường Núi Sam",
            "entitlement": "D20.5.5.c||",
        }
        values.update(overrides)
        return ApplicantInput(**values)

    return _make


@pytest.fixture
def today(monkeypatch):
    """today(day): from now on `timezone.localdate()` answers `day`."""

    def _set(day: date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)

    return _set


def a_working_day() -> date:
    """Today (Vietnam's time) or, on a weekend or a public holiday, the next working day: the day a
    posting made now starts, so that a test can read the posting the same "day" (set it with
    `today`). Never a fixed date, which would fall before the records' real timestamps one day."""
    day = timezone.localdate()
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
