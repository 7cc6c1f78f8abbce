"""Applications: receiving (online, counter), documents, the state machine, the posting period
and the chairperson's decision through the registry."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from ansinh.applications import services, throttle
from ansinh.applications.models import TRANSITIONS, Application, Attachment, State
from ansinh.audit.models import AuditEvent
from ansinh.core.errors import InvalidTransition
from ansinh.payroll.calendar import is_working_day
from ansinh.registry.models import Beneficiary, DecisionKind, Status
from tests.applications.conftest import JPEG, PDF, PNG, upload
from tests.factories import cccd_for


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def submit(applicant, officer_a, **overrides):
    return services.submit_online(data=applicant(**overrides), uploads=[upload()], client=f"c-{overrides}")


# --- receiving -----------------------------------------------------------------------------------


def test_online_submission_stores_the_application_and_its_documents(applicant, officer_a):
    app = services.submit_online(
        data=applicant(),
        uploads=[upload(), upload("medical", "giay.png", PNG), upload("household", "xn.jpg", JPEG)],
        client="c1",
    )
    assert app.reference == f"HS-{timezone.localdate().year}-000001"
    assert app.state == State.SUBMITTED and app.channel == "online" and app.received_by is None
    kinds = sorted(a.content_type for a in app.attachments.all())
    assert kinds == ["application/pdf", "image/jpeg", "image/png"]
    assert len(media_files()) == 3
    assert all(p.parent.parent.parent.name == "applications" for p in media_files())
    second = services.submit_online(
        data=applicant(cccd=cccd_for(date(1944, 2, 10), "female", "550002")), uploads=[], client="c1"
    )
    assert second.reference.endswith("000002")
    assert AuditEvent.objects.filter(action="applications.submitted").count() == 2


@pytest.mark.parametrize(
    "uploads, message",
    [
        ([upload(name="virus.pdf", content=b"MZ\x90\x00 not a pdf")], "không phải tệp PDF, JPG hoặc PNG"),
        ([upload(name="to.pdf", content=PDF + b"0" * (5 * 1024 * 1024))], "lớn hơn 5 MB"),
        ([upload(name=f"{i}.pdf") for i in range(11)], "tối đa 10"),
    ],
    ids=["bad-type", "too-large", "too-many"],
)
def test_bad_documents_are_refused_in_vietnamese_and_nothing_is_written(applicant, officer_a, uploads, message):
    with pytest.raises(ValidationError) as exc:
        services.submit_online(data=applicant(), uploads=[upload(), *uploads], client="c1")
    assert any(message in m for m in exc.value.message_dict["attachments"]), exc.value.message_dict
    assert not Application.objects.exists() and not Attachment.objects.exists()
    assert media_files() == []


def test_the_type_is_read_from_the_bytes_not_the_name(applicant, officer_a):
    app = services.submit_online(data=applicant(), uploads=[upload(name="anh.pdf", content=PNG)], client="c1")
    assert app.attachments.get().content_type == "image/png"


def test_online_submissions_are_rate_limited_per_client(applicant, officer_a):
    for i in range(throttle.SUBMIT_PER_HOUR):
        services.submit_online(
            data=applicant(cccd=cccd_for(date(1944, 2, 10), "female", f"55010{i}")), uploads=[], client="busy"
        )
    with pytest.raises(throttle.TooManyAttempts) as exc:
        services.submit_online(
            data=applicant(cccd=cccd_for(date(1944, 2, 10), "female", "550199")), uploads=[], client="busy"
        )
    assert "Quá nhiều" in str(exc.value)
    services.submit_online(
        data=applicant(cccd=cccd_for(date(1944, 2, 10), "female", "550198")), uploads=[], client="other"
    )


def test_an_active_beneficiary_gets_a_clear_message(applicant, officer_a):
    from ansinh.registry import services as registry
    from ansinh.registry.inputs import BeneficiaryInput, CategoryInput

    data = applicant()
    registry.create_beneficiary(
        actor=officer_a,
        data=BeneficiaryInput(
            full_name="Trần Thị Đã Hưởng",
            birth_date=data.birth_date,
            gender="female",
            commune_id=data.commune_id,
            cccd=data.cccd,
            phone="0912000111",
            categories=[CategoryInput(code="D20.5.5.c")],
            decision_number="1/QĐ",
            decision_date=date(2025, 1, 10),
        ),
    )
    with pytest.raises(ValidationError) as exc:
        services.submit_online(data=data, uploads=[], client="c1")
    assert "đang hưởng trợ cấp hằng tháng" in " ".join(exc.value.message_dict["cccd"])


def test_one_open_application_per_person(applicant, officer_a):
    services.submit_online(data=applicant(), uploads=[], client="c1")
    with pytest.raises(ValidationError) as exc:
        services.submit_online(data=applicant(), uploads=[], client="c2")
    assert "đang được xử lý" in " ".join(exc.value.message_dict["cccd"])


def test_online_applications_go_only_to_communes_that_take_them(applicant, officer_a, tree):
    with pytest.raises(ValidationError) as exc:  # nobody reviews applications in commune B
        services.submit_online(data=applicant(commune_id=tree.b.pk, village_id=None), uploads=[], client="c1")
    assert "commune" in exc.value.message_dict


def test_counter_submission_needs_the_review_capability_in_the_commune(applicant, officer_a, officer_b, viewer_a):
    app = services.submit_at_counter(actor=officer_a, data=applicant(), uploads=[upload()])
    assert app.channel == "counter" and app.received_by == officer_a
    for outsider in (officer_b, viewer_a):
        with pytest.raises((ValidationError, PermissionDenied)):
            services.submit_at_counter(
                actor=outsider, data=applicant(cccd=cccd_for(date(1944, 2, 10), "female", "550077")), uploads=[]
            )


# --- the state machine ---------------------------------------------------------------------------


def test_every_state_change_is_in_the_map_and_final_states_are_final():
    assert TRANSITIONS[State.APPROVED] == TRANSITIONS[State.REJECTED] == TRANSITIONS[State.WITHDRAWN] == frozenset()
    assert set(TRANSITIONS) == set(State.values)


def test_return_add_documents_and_resubmit(applicant, officer_a):
    app = services.submit_online(data=applicant(), uploads=[upload()], client="c1")
    with pytest.raises(ValidationError):
        services.review(actor=officer_a, application=app, outcome="return", comment="")
    services.review(actor=officer_a, application=app, outcome="return", comment="Thiếu giấy xác nhận hộ nghèo")
    app.refresh_from_db()
    assert app.state == State.RETURNED and app.review_comment == "Thiếu giấy xác nhận hộ nghèo"
    services.add_documents(actor=None, application=app, uploads=[upload("household", "xn.png", PNG)])
    app.refresh_from_db()
    assert app.state == State.SUBMITTED and app.attachments.count() == 2
    with pytest.raises(InvalidTransition):  # the public adds documents only while returned
        services.add_documents(actor=None, application=app, uploads=[upload()])


def test_refused_transitions_change_nothing(applicant, officer_a):
    app = services.submit_online(data=applicant(), uploads=[], client="c1")
    with pytest.raises(InvalidTransition):  # not accepted yet
        services.post_publicly(actor=officer_a, application=app)
    with pytest.raises(InvalidTransition):
        services.decide(actor=officer_a, application=app, approve=True, number="1", signed_on=date.today(), signer="A")
    services.review(actor=officer_a, application=app, outcome="reject", comment="Không thuộc đối tượng")
    app.refresh_from_db()
    assert app.state == State.REJECTED
    for call in (
        lambda: services.review(actor=officer_a, application=app, outcome="accept"),
        lambda: services.withdraw(actor=officer_a, application=app),
        lambda: services.post_publicly(actor=officer_a, application=app),
    ):
        with pytest.raises(InvalidTransition):
            call()
    app.refresh_from_db()
    assert app.state == State.REJECTED


def test_only_the_commune_reviews(applicant, officer_a, officer_b, viewer_a):
    app = services.submit_online(data=applicant(), uploads=[], client="c1")
    for outsider in (officer_b, viewer_a):
        with pytest.raises(PermissionDenied):
            services.review(actor=outsider, application=app, outcome="accept")
    app.refresh_from_db()
    assert app.state == State.SUBMITTED


# --- the posting period --------------------------------------------------------------------------


def test_posting_over_a_weekend():
    # Friday 4 Dec 2026 → Monday 7 Dec
    assert services.posting_period(date(2026, 12, 4)) == (date(2026, 12, 4), date(2026, 12, 7))
    # a Saturday start moves to Monday
    assert services.posting_period(date(2026, 12, 5)) == (date(2026, 12, 7), date(2026, 12, 8))


def test_posting_over_public_holidays_and_a_weekend():
    # Wednesday 29 Apr 2026; 30 Apr (Reunification Day) and 1 May (Labour Day) are holidays,
    # then a weekend: the second working day is Monday 4 May
    assert services.posting_period(date(2026, 4, 29)) == (date(2026, 4, 29), date(2026, 5, 4))
    # starting on the holiday itself: Monday 4 May and Tuesday 5 May
    assert services.posting_period(date(2026, 4, 30)) == (date(2026, 5, 4), date(2026, 5, 5))


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)))
def test_a_posting_covers_exactly_two_working_days(start):
    first, last = services.posting_period(start)
    assert first >= start and is_working_day(first) and is_working_day(last)
    between = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert sum(map(is_working_day, between)) == 2


# --- the decision --------------------------------------------------------------------------------


def _posted(applicant, officer_a, **overrides):
    app = services.submit_online(data=applicant(**overrides), uploads=[upload()], client="c1")
    services.review(actor=officer_a, application=app, outcome="accept")
    services.post_publicly(actor=officer_a, application=app)
    app.refresh_from_db()
    return app


def test_no_decision_before_the_posting_has_ended(applicant, officer_a, today):
    app = _posted(applicant, officer_a)
    today(app.posting_ends)
    with pytest.raises(InvalidTransition) as exc:
        services.decide(
            actor=officer_a,
            application=app,
            approve=True,
            number="5/QĐ",
            signed_on=app.posting_ends,
            signer="Lê Văn Chủ",
        )
    assert "niêm yết" in str(exc.value)
    app.refresh_from_db()
    assert app.state == State.POSTED and not Beneficiary.objects.exists()


def test_approval_creates_the_beneficiary_through_the_registry(applicant, officer_a, today):
    app = _posted(applicant, officer_a, rep_name="Lê Văn Con", rep_phone="0987654321", rep_relationship="con trai")
    day = services.decidable_from(app)
    today(day)
    with pytest.raises(ValidationError) as exc:  # signed during the posting
        services.decide(
            actor=officer_a, application=app, approve=True, number="5/QĐ", signed_on=app.posting_ends, signer="X"
        )
    assert "signed_on" in exc.value.message_dict
    services.decide(
        actor=officer_a, application=app, approve=True, number="5/QĐ-UBND", signed_on=day, signer="Lê Văn Chủ"
    )
    app.refresh_from_db()
    b = app.beneficiary
    assert app.state == State.APPROVED and b.status == Status.ACTIVE and b.cccd == app.cccd
    assert b.start_month == day.replace(day=1) == app.start_month
    assert [c.category.code for c in b.categories.all()] == ["D20.5.5.c"]
    assert app.decision.kind == DecisionKind.START and app.decision.number == "5/QĐ-UBND"
    assert b.representations.get().representative.full_name == "Lê Văn Con"
    assert app.decision_signer_title.startswith("Chủ tịch")
    assert AuditEvent.objects.filter(action="applications.approved", object_id=str(app.pk)).exists()


def test_approval_restarts_a_stopped_beneficiary_with_the_same_cccd(applicant, officer_a, today):
    from ansinh.registry import services as registry
    from ansinh.registry.inputs import BeneficiaryInput, CategoryInput

    data = applicant()
    old = registry.create_beneficiary(
        actor=officer_a,
        data=BeneficiaryInput(
            full_name=data.full_name,
            birth_date=data.birth_date,
            gender="female",
            commune_id=data.commune_id,
            cccd=data.cccd,
            phone="0912000111",
            categories=[CategoryInput(code="D20.5.5.c")],
            decision_number="1/QĐ",
            decision_date=date(2024, 1, 10),
        ),
    )
    registry.record_decision(
        actor=officer_a,
        beneficiary=old,
        kind=DecisionKind.STOP,
        number="2/QĐ",
        signed_on=date(2024, 6, 1),
        reason="ineligible",
        event_date=date(2024, 5, 20),
    )
    app = _posted(applicant, officer_a, entitlement="D20.5.6|severe:adult|")
    day = services.decidable_from(app)
    today(day)
    services.decide(actor=officer_a, application=app, approve=True, number="9/QĐ", signed_on=day, signer="Lê Văn Chủ")
    old.refresh_from_db()
    assert Beneficiary.objects.count() == 1 and old.status == Status.ACTIVE
    assert app.__class__.objects.get(pk=app.pk).beneficiary_id == old.pk
    assert old.categories.filter(to_month__isnull=True).get().category.code == "D20.5.6"


def test_refusal_records_the_reason(applicant, officer_a, today):
    app = _posted(applicant, officer_a)
    day = services.decidable_from(app)
    today(day)
    with pytest.raises(ValidationError):
        services.decide(actor=officer_a, application=app, approve=False, signed_on=day)
    services.decide(actor=officer_a, application=app, approve=False, signed_on=day, reason="Có lương hưu")
    app.refresh_from_db()
    assert app.state == State.REJECTED and app.rejection_reason == "Có lương hưu" and not Beneficiary.objects.exists()


def test_deciding_needs_registry_decide_in_the_commune(applicant, officer_a, officer_b, viewer_a, today):
    app = _posted(applicant, officer_a)
    today(services.decidable_from(app))
    for outsider in (officer_b, viewer_a):
        with pytest.raises(PermissionDenied):
            services.decide(actor=outsider, application=app, approve=False, signed_on=timezone.localdate(), reason="x")


def test_old_rate_limit_records_are_purged(db):
    from datetime import timedelta as td
    from io import StringIO

    from django.core.management import call_command

    from ansinh.applications.models import PublicAttempt

    old = PublicAttempt.objects.create(kind="check", client="x")
    PublicAttempt.objects.filter(pk=old.pk).update(at=timezone.now() - td(days=3))
    PublicAttempt.objects.create(kind="check", client="x")
    out = StringIO()
    call_command("purge_application_attempts", stdout=out)
    assert PublicAttempt.objects.count() == 1 and out.getvalue().startswith("1 ")
