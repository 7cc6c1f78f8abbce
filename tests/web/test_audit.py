from django.urls import reverse

from ansinh.areas.services import create_village
from ansinh.audit.models import AuditEvent


def test_officer_a_sees_events_in_a_only(client_for, officer_a, officer_b, tree):
    create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    create_village(actor=officer_b, commune=tree.b, name="Thôn Tây", kind="Thôn")
    body = client_for(officer_a).get(reverse("audit:list")).content.decode()
    assert "Thôn Đông" in body
    assert "Thôn Tây" not in body


def test_viewer_a_sees_events_of_a(client_for, officer_a, viewer_a, tree):
    create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    body = client_for(viewer_a).get(reverse("audit:list")).content.decode()
    assert "Thôn Đông" in body


def test_officer_b_sees_nothing_of_a(client_for, officer_a, officer_b, tree):
    create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    client = client_for(officer_b)
    assert "Thôn Đông" not in client.get(reverse("audit:list")).content.decode()
    assert client.get(reverse("audit:list"), {"area": tree.a.pk}).status_code == 404


def test_filter_by_action_and_area(client_for, officer_a, tree):
    village = create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    from ansinh.areas.services import rename_village

    rename_village(actor=officer_a, village=village, name="Thôn Bắc")
    client = client_for(officer_a)
    body = client.get(reverse("audit:list"), {"action": "areas.village.renamed"}).content.decode()
    assert 'data-action="areas.village.renamed"' in body
    assert 'data-action="areas.village.created"' not in body
    body = client.get(reverse("audit:list"), {"area": tree.village_a.pk}).content.decode()
    assert 'data-action="areas.village.' not in body


def test_a_change_reads_as_a_sentence_with_before_and_after(client_for, officer_a, tree):
    from ansinh.areas.services import rename_village

    village = create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    rename_village(actor=officer_a, village=village, name="Thôn Bắc")
    body = client_for(officer_a).get(reverse("areas:detail", args=[village.pk])).content.decode()
    assert "đã đổi tên Thôn Đông thành Thôn Bắc (Phường Châu Phú A)." in body


def test_provider_staff_may_not_open_the_log(client_for, tree):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    user = make_user("post", Role.PROVIDER_STAFF, tree.district)
    assert client_for(user).get(reverse("audit:list")).status_code == 403


def test_audit_list_is_paginated_with_bounded_queries(client_for, officer_a, tree, django_assert_max_num_queries):
    for i in range(60):
        create_village(actor=officer_a, commune=tree.a, name=f"Tổ {i}", kind="Tổ dân phố")
    assert AuditEvent.objects.count() == 60
    client = client_for(officer_a)
    # session, user, roles, menu; the filter's users and areas; the page; its areas and actors' roles
    with django_assert_max_num_queries(13):
        response = client.get(reverse("audit:list"))
    assert response.status_code == 200
    assert response.content.decode().count('data-action="areas.village.created"') == 50
    page = response.context["page"]
    older = client.get(reverse("audit:list"), {"older": page.older})
    assert older.content.decode().count("data-action=") == 10
    assert older.context["page"].older is None
    newer = client.get(reverse("audit:list"), {"newer": older.context["page"].newer})
    assert [e.pk for e in newer.context["page"].events] == [e.pk for e in page.events]
    assert newer.context["page"].newer is None  # nothing newer: back at the newest page


def test_audit_list_reads_no_distinct_and_no_count_of_the_log(client_for, officer_a, tree):
    """On a log of millions of events a DISTINCT over the actions and an exact count cost
    seconds on every request: the choices come from the catalogue and pages are keyset."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    create_village(actor=officer_a, commune=tree.a, name="Thôn Đông", kind="Thôn")
    client = client_for(officer_a)
    for params in ({}, {"action": "areas.village.created"}, {"area": tree.a.pk}, {"older": 10**6}):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("audit:list"), params)
        assert response.status_code == 200
        log_queries = [q["sql"].upper() for q in ctx.captured_queries if "AUDIT_AUDITEVENT" in q["sql"].upper()]
        assert log_queries
        assert not any("DISTINCT" in sql or "COUNT(" in sql or "OFFSET" in sql for sql in log_queries)
    # every labelled action is offered, whether or not it happened yet
    body = client.get(reverse("audit:list")).content.decode()
    assert 'value="registry.decision.stop"' in body


def test_keyset_pages_follow_the_filters(client_for, officer_a, tree):
    from ansinh.areas.services import rename_village

    for i in range(3):
        rename_village(
            actor=officer_a,
            village=create_village(actor=officer_a, commune=tree.a, name=f"Tổ {i}", kind="Tổ dân phố"),
            name=f"Tổ {i} mới",
        )
    client = client_for(officer_a)
    response = client.get(reverse("audit:list"), {"action": "areas.village.renamed"})
    ids = [e.pk for e in response.context["page"].events]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    older = client.get(reverse("audit:list"), {"action": "areas.village.renamed", "older": ids[0]})
    assert [e.pk for e in older.context["page"].events] == ids[1:]
    assert 'data-action="areas.village.created"' not in older.content.decode()


def test_an_action_without_a_label_can_still_be_filtered(client_for, officer_a, tree):
    from django.db import transaction

    from ansinh.audit.services import record

    with transaction.atomic():
        record(actor=officer_a, action="test.unlabelled", area=tree.a)
        record(actor=officer_a, action="test.other", area=tree.a)
    body = client_for(officer_a).get(reverse("audit:list"), {"action": "test.unlabelled"}).content.decode()
    assert 'data-action="test.unlabelled"' in body
    assert 'data-action="test.other"' not in body


def test_every_action_recorded_in_the_code_has_a_label():
    """The filter offers the catalogue (web.labels.ACTION_LABELS): an action missing there could
    be found in the log only by typing its name."""
    import re
    from pathlib import Path

    import ansinh
    from ansinh.web.labels import ACTION_LABELS

    root = Path(ansinh.__file__).parent
    pattern = re.compile(r"""(?:action=|\bACTION = |_ACTION = )["']([a-z_]+(?:\.[a-z_]+)+)["']""")
    found = {m for path in root.rglob("*.py") for m in pattern.findall(path.read_text(encoding="utf-8"))}
    assert found
    assert sorted(found - set(ACTION_LABELS)) == []
