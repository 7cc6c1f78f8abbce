"""The public pages (form, status) and the staff pages (register with counts and filters, export,
new, detail and its actions), with the three personas and the provider's staff."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from ansinh.complaints import services
from ansinh.complaints.models import Complaint, RoutedTo, State, Topic

from .conftest import CCCD_A, lodge

FORM = {
    "kind": "feedback",
    "topic": "not_paid",
    "name": "Trần Thị Hỏi",
    "phone": "0912 000 111",
    "cccd": "",
    "text": "Tháng này bà tôi chưa nhận được tiền trợ cấp tại điểm chi trả.",
    "website": "",
}


def test_public_form_lodges_and_shows_the_reference(tree):
    client = Client()
    page = client.get(reverse("public:complaint_new"))
    assert page.status_code == 200
    body = page.content.decode()
    assert tree.a.name in body and tree.b.name in body and tree.village_a.name not in body
    response = client.post(reverse("public:complaint_new"), FORM | {"commune": tree.a.pk})
    c = Complaint.objects.get()
    assert response.status_code == 200 and c.reference in response.content.decode()
    assert (c.commune, c.phone, c.routed_to) == (tree.a, "+84912000111", RoutedTo.COMMUNE)


def test_public_form_shows_the_reasons_and_writes_nothing(tree):
    response = Client().post(reverse("public:complaint_new"), FORM | {"commune": tree.a.pk, "text": "x" * 2001})
    assert response.status_code == 400
    assert "2000" in response.content.decode() or "2.000" in response.content.decode()
    response = Client().post(reverse("public:complaint_new"), FORM | {"commune": tree.a.pk, "website": "spam"})
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_public_form_asks_the_province_first_when_there_are_several(tree):
    from ansinh.areas.models import Area, Level, Tree

    other = Area.objects.create(tree=Tree.CURRENT, level=Level.PROVINCE, code="01", name="Hà Nội")
    Area.objects.create(tree=Tree.CURRENT, level=Level.COMMUNE, code="00004", name="Ba Đình", parent=other)
    client = Client()
    assert 'name="tinh"' in client.get(reverse("public:complaint_new")).content.decode()
    body = client.get(reverse("public:complaint_new"), {"tinh": other.pk}).content.decode()
    assert "Ba Đình" in body and tree.a.name not in body
    response = client.post(reverse("public:complaint_new"), FORM | {"tinh": tree.province.pk, "commune": tree.a.pk})
    assert response.status_code == 200 and Complaint.objects.get().commune == tree.a


def test_public_form_rate_limit_answers_429(tree):
    client = Client(REMOTE_ADDR="198.51.100.77")
    for _ in range(services.ONLINE_PER_HOUR):
        assert client.post(reverse("public:complaint_new"), FORM | {"commune": tree.a.pk}).status_code == 200
    assert client.post(reverse("public:complaint_new"), FORM | {"commune": tree.a.pk}).status_code == 429
    assert Complaint.objects.count() == services.ONLINE_PER_HOUR


def test_public_status_shows_state_and_answer_only(tree, officer_a):
    c = services.lodge_online(client="x", commune_id=tree.a.pk, **FORM)
    services.resolve(actor=officer_a, complaint=c, resolution="Tiền đã được chi bổ sung ngày 05.")
    url = reverse("public:complaint_status")
    client = Client()
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"reference": c.reference, "last4": "9999"}).content.decode()
    unknown = client.post(url, {"reference": "KN-1999-000009", "last4": "0111"}).content.decode()
    assert 'data-error="not-found"' in wrong and 'data-error="not-found"' in unknown
    assert "Tiền đã được chi" not in wrong
    right = client.post(url, {"reference": c.reference, "last4": "0111"}).content.decode()
    assert "Tiền đã được chi bổ sung ngày 05." in right and str(State.RESOLVED.label) in right
    assert FORM["name"] not in right and tree.a.name not in right and FORM["text"] not in right


# --- staff ----------------------------------------------------------------------------------------


@pytest.fixture
def register_rows(tree, officer_a, officer_b):
    a1 = lodge(officer_a, tree.a)
    a2 = lodge(officer_a, tree.a, topic=Topic.PAY_POINT_SCHEDULE)
    services.resolve(actor=officer_a, complaint=a2, resolution="Đã đổi lịch.")
    late = lodge(officer_a, tree.a, topic=Topic.CANNOT_WITHDRAW, name="Người Quá Hạn")
    Complaint.objects.filter(pk=late.pk).update(
        received_on=late.received_on - timedelta(days=40), due_on=late.received_on - timedelta(days=1)
    )
    b1 = lodge(officer_b, tree.b, name="Người Xã Bê")
    return a1, a2, late, b1


def test_register_counts_per_commune_and_state(client_for, officer_a, tree, register_rows):
    a1, a2, late, b1 = register_rows
    response = client_for(officer_a).get(reverse("complaints:register"))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["total"] == 3 and counts["overdue"] == 1 and counts["open"] == 2
    assert counts["states"] == {State.LODGED: 2, State.RESOLVED: 1}
    (row,) = counts["communes"]
    assert (row["commune_id"], row["total"], row["open"], row["overdue"]) == (tree.a.pk, 3, 2, 1)
    body = response.content.decode()
    assert a1.reference in body and b1.reference not in body and "Người Xã Bê" not in body
    overdue = client_for(officer_a).get(reverse("complaints:register"), {"overdue": "on"})
    assert [c.pk for c in overdue.context["complaints"]] == [late.pk]
    provider = client_for(officer_a).get(reverse("complaints:register"), {"routed_to": "provider", "state": "open"})
    assert [c.pk for c in provider.context["complaints"]] == [late.pk]


def test_provider_staff_see_only_what_is_routed_to_the_provider(client_for, provider_a, register_rows):
    a1, a2, late, b1 = register_rows
    response = client_for(provider_a).get(reverse("complaints:register"))
    assert {c.pk for c in response.context["complaints"]} == {a2.pk, late.pk}
    assert client_for(provider_a).get(reverse("complaints:detail", args=[a1.pk])).status_code == 404


def test_export_holds_the_register(client_for, officer_a, register_rows):
    a1, a2, late, b1 = register_rows
    response = client_for(officer_a).get(reverse("complaints:export"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [c for row in wb.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert {a1.reference, a2.reference, late.reference} <= set(cells) and b1.reference not in cells
    assert "0912 345 678" in cells  # the commune officer sees contact data
    counts = list(wb.worksheets[1].iter_rows(values_only=True))
    assert counts[1][:4] == ("Châu Phú A", 3, 2, 1)


def test_other_commune_is_404_and_readers_get_403(client_for, officer_a, viewer_a, officer_b, tree):
    c = lodge(officer_a, tree.a)
    detail = reverse("complaints:detail", args=[c.pk])
    resolve = reverse("complaints:resolve", args=[c.pk])
    assert client_for(officer_b).get(detail).status_code == 404
    assert client_for(officer_b).post(resolve, {"resolution": "x"}).status_code == 404
    reader = client_for(viewer_a)
    page = reader.get(detail)
    assert page.status_code == 200 and 'data-form="complaint-close"' not in page.content.decode()
    assert reader.post(resolve, {"resolution": "x"}).status_code == 403
    assert reader.get(reverse("complaints:new")).status_code == 403
    c.refresh_from_db()
    assert c.state == State.LODGED


def test_staff_form_and_detail_actions(client_for, officer_a, tree, paid):
    client = client_for(officer_a)
    response = client.post(
        reverse("complaints:new"),
        {
            "channel": "counter",
            "kind": "complaint",
            "topic": "wrong_amount",
            "commune": tree.a.pk,
            "routed_to": "",
            "name": "Ôn Thị Khiếu",
            "phone": "",
            "cccd": CCCD_A,
            "text": "Số tiền tháng này thấp hơn tháng trước.",
        },
    )
    c = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("complaints:detail", args=[c.pk])
    assert c.beneficiary == paid[0].beneficiary and c.routed_to == RoutedTo.COMMUNE
    page = client.get(response["Location"]).content.decode()
    assert f'value="{paid[0].line.pk}"' in page and f'value="{paid[1].line.pk}"' not in page
    # B's line named in the post is refused, nothing linked
    client.post(reverse("complaints:link", args=[c.pk]), {"lines": [paid[1].line.pk]})
    assert not c.lines.exists()
    client.post(
        reverse("complaints:link", args=[c.pk]), {"lines": [paid[0].line.pk], "exceptions": [paid[0].exception.pk]}
    )
    assert list(c.lines.all()) == [paid[0].line] and list(c.exceptions.all()) == [paid[0].exception]
    client.post(reverse("complaints:assign", args=[c.pk]), {"assignee": officer_a.pk, "routed_to": "", "note": ""})
    c.refresh_from_db()
    assert c.state == State.IN_PROGRESS and c.assignee == officer_a
    client.post(reverse("complaints:resolve", args=[c.pk]), {"resolution": ""})
    c.refresh_from_db()
    assert c.state == State.IN_PROGRESS  # an answer is required
    client.post(reverse("complaints:reject", args=[c.pk]), {"resolution": "Số tiền đúng theo hệ số mới."})
    c.refresh_from_db()
    assert c.state == State.REJECTED
    page = client.get(reverse("complaints:detail", args=[c.pk])).content.decode()
    assert "Số tiền đúng theo hệ số mới." in page and 'data-form="complaint-close"' not in page


def test_menu_shows_complaints_to_readers(client_for, viewer_a):
    body = client_for(viewer_a).get(reverse("dashboard")).content.decode()
    assert reverse("complaints:register") in body


def test_the_register_reads_a_fixed_number_of_queries(client_for, officer_a, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(officer_a)
    url = reverse("complaints:register")

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    lodge(officer_a, tree.a)
    few = queries_for_page()
    for i in range(8):
        c = lodge(officer_a, tree.a, name=f"Người {i}")
        services.assign(actor=officer_a, complaint=c, assignee=officer_a)
    assert queries_for_page() == few
