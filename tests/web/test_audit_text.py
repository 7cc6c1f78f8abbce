"""The audit log as sentences (ansinh.web.audit_text): every action the code records has one,
and a realistic set of events reads as Vietnamese without ids, codes or English."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.audit.services import record
from ansinh.registry import services
from ansinh.registry.inputs import PersonInput, RepresentationInput
from ansinh.registry.models import DecisionKind
from ansinh.web import audit_text
from tests.factories import cccd_for
from tests.registry.conftest import make_input  # noqa: F401 (fixture)


def actions_in_code() -> set[str]:
    import ansinh

    root = Path(ansinh.__file__).parent
    pattern = re.compile(r"""(?:action=f?|\bACTION = |_ACTION = )["']([a-z_]+(?:\.[a-z_{}]+)+)["']""")
    found = set()
    for path in root.rglob("*.py"):
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            if "{kind}" in name:  # registry.decision.{kind}: one per decision kind
                found |= {name.replace("{kind}", k) for k in DecisionKind.values}
            elif "{" not in name:
                found.add(name)
    return found


def test_every_action_recorded_in_the_code_has_a_sentence():
    """A renderer of its own (or of its family), not the fallback; and a Vietnamese phrase for
    each decision kind."""
    from ansinh.registry.import_jobs import STATUS_ACTIONS

    found = actions_in_code() | set(STATUS_ACTIONS.values())
    assert "registry.decision.stop" in found and "registry.import.done" in found
    assert sorted(a for a in found if audit_text.renderer_for(a) is audit_text._fallback) == []
    assert sorted(a for a in found if a.startswith("registry.decision.") and a not in audit_text.DECISIONS) == []


@pytest.fixture
def realistic_log(tree, policy, officer_a, make_input, tmp_path, settings):  # noqa: F811
    """What a commune's log holds after a few days of work, through the real services."""
    from ansinh.accounts.services import assign_role, create_user
    from ansinh.areas.services import create_village, rename_village
    from ansinh.registry import import_jobs
    from tests.registry.test_import import good_rows, xlsx

    settings.MEDIA_ROOT = tmp_path / "media"
    b = services.create_beneficiary(actor=officer_a, data=make_input(full_name="Trần Thị Bình", phone="0912345678"))
    services.update_beneficiary(
        actor=officer_a, beneficiary=b, data=make_input(full_name="Trần Thị Bình", phone="0987654321")
    )
    rep_birth = date(1975, 2, 2)
    rep = RepresentationInput(
        person=PersonInput(
            full_name="Lê Văn Tư",
            birth_date=rep_birth,
            gender="male",
            cccd=cccd_for(rep_birth, "male", "555555"),
            phone="0987000111",
        ),
        kind="authorised",
        relationship="Con",
        is_payee=True,
    )
    services.add_representation(actor=officer_a, beneficiary=b, data=rep)
    services.set_payee(actor=officer_a, beneficiary=b, representation=None)
    services.record_decision(
        actor=officer_a,
        beneficiary=b,
        kind=DecisionKind.STOP,
        number="20/QĐ-UBND",
        signed_on=date(2025, 4, 2),
        reason="died",
        death_date=date(2025, 3, 14),
    )
    village = create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    rename_village(actor=officer_a, village=village, name="Thôn Bắc")
    path = xlsx(good_rows(), tmp_path / "danh-sach.xlsx")
    job = import_jobs.start_import(
        actor=officer_a, commune=tree.a, upload=SimpleUploadedFile("danh-sach.xlsx", path.read_bytes())
    )
    import_jobs.confirm_import(actor=officer_a, job=job)
    clerk = create_user(actor=None, username="can_bo_moi", full_name="Phạm Văn Cường")
    assign_role(actor=None, user=clerk, role=Role.COMMUNE_OFFICER, area=tree.a)
    return b


# English words an officer must not meet, and the shapes of raw values
ENGLISH = re.compile(
    r"\b(active|stopped|suspended|female|male|died|true|false|none|null|authorised|guardian|commune_officer|"
    r"created|updated|changed|registry|import|status|phone|category|categories|user|system|file|done)\b",
    re.IGNORECASE,
)
RAW = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO dates
    re.compile(r"\+84\d+"),  # E.164 phones
    re.compile(r"\bD20\.[\d.]+[a-z]?\b"),  # category codes
    re.compile(r"[a-z]+\.[a-z_]+\.[a-z_]+"),  # action names
    re.compile(r"\b[a-z]+_[a-z_]+\b"),  # snake_case keys and choice values
]


def rendered_texts(events, user) -> list[str]:
    with translation.override("vi"):
        entries = audit_text.render(events, user)
        out = []
        for e in entries:
            out.append(e.text)
            out += [f"{c.label}: {c.before} → {c.after}" for c in e.changes]
            out += [e.note, e.outcome]
        return [t for t in out if t]


def test_a_realistic_log_reads_as_vietnamese_sentences(realistic_log, officer_a):
    events = list(AuditEvent.objects.select_related("actor").order_by("id"))
    texts = rendered_texts(events, officer_a)
    body = "\n".join(texts)
    for pattern in [ENGLISH, *RAW]:
        assert not pattern.search(body), (pattern.pattern, pattern.findall(body), body)
    # no raw id of an area, a person or a job
    ids = {str(e.area_id) for e in events if e.area_id} | {e.object_id for e in events if e.object_id}
    for text in texts:
        numbers = set(re.findall(r"(?<![\d/.])\d{1,3}(?![\d/.])", text))
        assert not (numbers & ids - {"1", "2", "4", "20"}) or "dòng" in text or "người" in text, text
    assert (
        "Officer A (cán bộ xã) đã sửa số điện thoại của bà Trần Thị Bình (sinh 1940) "
        "từ 0912 345 678 thành 0987 654 321." in texts
    )
    assert any(
        "đã ghi quyết định dừng hưởng trợ cấp số 20/QĐ-UBND của bà Trần Thị Bình (sinh 1940), hiệu lực từ 04/2025" in t
        for t in texts
    ), body
    assert "Trạng thái: Đang hưởng → Thôi hưởng" in body
    assert "Officer A (cán bộ xã) đã đổi tên Thôn Đông thành Thôn Bắc (Phường Châu Phú A)." in texts
    assert "Hệ thống đã giao cho Phạm Văn Cường vai trò Công chức LĐTBXH/VH-XH cấp xã tại Phường Châu Phú A." in texts


def test_every_entry_of_an_import_shows_its_final_status(realistic_log, officer_a):
    events = list(AuditEvent.objects.filter(action__startswith="registry.import.").select_related("actor"))
    assert len(events) == 5
    with translation.override("vi"):
        entries = audit_text.render(events, officer_a)
    assert {e.outcome for e in entries} == {
        "Lần nhập này hiện nay: đã nhập xong, 2 người được đăng ký và 0 người được sửa."
    }
    assert any("danh-sach.xlsx" in e.text for e in entries)


def test_hiv_related_categories_stay_masked_for_a_reader_without_the_right(tree, policy, officer_a, viewer_a):
    from ansinh.policy.models import Category

    hidden = Category.objects.filter(sensitive=True).first()
    assert hidden is not None
    with transaction.atomic():
        event = record(
            actor=officer_a,
            action="registry.beneficiary.updated",
            area=tree.a,
            before={"categories": ["D20.5.5.c::1"]},
            after={"categories": [f"{hidden.code}::1"]},
        )
    event = AuditEvent.objects.select_related("actor").get(pk=event.pk)
    with translation.override("vi"):
        (officer_view,) = audit_text.render([event], officer_a)
        (viewer_view,) = audit_text.render([event], viewer_a)
    assert hidden.name_vi in officer_view.text
    assert hidden.name_vi not in viewer_view.text and "***" in viewer_view.text
    # phones: in full where the reader may contact people, masked elsewhere
    with transaction.atomic():
        event = record(
            actor=officer_a, action="registry.beneficiary.updated", area=tree.a, after={"phone": "+84912345678"}
        )
    event = AuditEvent.objects.select_related("actor").get(pk=event.pk)
    with translation.override("vi"):
        assert "0912 345 678" in audit_text.render([event], officer_a)[0].text
        assert "09xx xxx 678" in audit_text.render([event], viewer_a)[0].text


def test_an_unknown_action_still_reads_as_vietnamese(tree, officer_a):
    with transaction.atomic():
        event = record(
            actor=officer_a,
            action="payroll.cycle.reopened",
            area=tree.a,
            before={"status": "active"},
            after={"status": "stopped"},
        )
    event = AuditEvent.objects.select_related("actor").get(pk=event.pk)
    with translation.override("vi"):
        (entry,) = audit_text.render([event], officer_a)
    assert entry.text == "Officer A (cán bộ xã): đã thực hiện một thay đổi (Phường Châu Phú A)."
    assert [(c.label, c.before, c.after) for c in entry.changes] == [("Trạng thái", "Đang hưởng", "Thôi hưởng")]


def test_values_are_formatted_for_people():
    with translation.override("vi"):
        assert (audit_text.plain(True), audit_text.plain(False)) == ("Có", "Không")
    assert audit_text.plain(9670) == "9.670"
    assert audit_text.plain("2025-04-02") == "02/04/2025"
    assert audit_text.plain("1.500") == "1,5"
    assert audit_text.month_text("2025-04-01") == "04/2025"


def test_the_list_reads_a_bounded_number_of_queries_whatever_the_events(
    realistic_log,
    officer_a,
    client_for,
    make_input,  # noqa: F811
):
    """The sentences' look-ups are batched per page: more events of every kind cost no more
    queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(officer_a)
    client.get(reverse("audit:list"))
    with CaptureQueriesContext(connection) as first:
        body = client.get(reverse("audit:list")).content.decode()
    assert "đã sửa số điện thoại của bà Trần Thị Bình" in body
    for i, name in enumerate(["Lê Thị Hoa", "Đỗ Thị Mai", "Võ Thị Lan"]):
        data = make_input(full_name=name, cccd=cccd_for(date(1940, 5, 17), "female", f"00000{i}"))
        b = services.create_beneficiary(actor=officer_a, data=data)
        data.phone = "0977000111"
        services.update_beneficiary(actor=officer_a, beneficiary=b, data=data)
    with CaptureQueriesContext(connection) as second:
        client.get(reverse("audit:list"))
    assert len(second.captured_queries) == len(first.captured_queries) <= 22


def test_filters_by_person_user_area_action_and_dates(realistic_log, officer_a, viewer_a, officer_b, client_for, tree):
    from datetime import timedelta

    from django.utils import timezone

    client = client_for(officer_a)
    url = reverse("audit:list")

    def actions(params):
        response = client.get(url, params)
        assert response.status_code == 200
        return [e.action for e in response.context["page"].events]

    b = realistic_log
    mine = actions({"beneficiary": b.pk})
    assert mine and "registry.decision.stop" in mine and "registry.representation.saved" in mine
    assert "registry.import.done" not in mine and "areas.village.created" not in mine
    # the search box finds the person by name (with or without diacritics) in the reader's areas
    assert actions({"person": "tran thi binh"}) == mine
    assert actions({"person": "không có ai"}) == []
    # another commune's officer: the person is unknown
    assert client_for(officer_b).get(url, {"beneficiary": b.pk}).status_code == 404
    client = client_for(officer_a)
    assert set(actions({"actor": officer_a.pk})) >= {"registry.beneficiary.created", "areas.village.renamed"}
    assert "accounts.role.assigned" not in actions({"actor": officer_a.pk})
    assert set(actions({"action": "registry.import.done", "actor": officer_a.pk})) == {"registry.import.done"}
    today = timezone.localdate()
    assert len(actions({"since": today.strftime("%d/%m/%Y")})) == len(actions({}))
    assert actions({"until": (today - timedelta(days=1)).strftime("%d/%m/%Y")}) == []
    assert actions({"since": (today + timedelta(days=1)).strftime("%d/%m/%Y")}) == []
    village_events = actions({"area": tree.village_a.pk})
    assert village_events and "areas.village.created" not in village_events
    # keyset pages keep the filters
    first = client.get(url, {"actor": officer_a.pk, "older": 10**9}).context["page"]
    assert {e.actor_id for e in first.events} == {officer_a.pk}


def test_date_range_is_read_as_a_range_of_ids(db):
    from ansinh.audit.queries import EventFilter, filtered, id_bounds

    assert id_bounds(date(2020, 1, 1), None) is None  # nothing recorded since
    assert list(filtered(AuditEvent.objects.all(), EventFilter(since=date(2020, 1, 1)))) == []
