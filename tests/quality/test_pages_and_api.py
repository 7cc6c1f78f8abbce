"""The worklist page, the dashboard's counts and the API: scoped to the user's communes, CCCDs
masked, each item linked to its fix; fixing the problem removes the line at the next refresh
(the page's refresh button, or the nightly `refresh_worklists`): opening the page writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ansinh.accounts.roles import Role
from ansinh.api.quality import KindValue
from ansinh.payments import services as payments
from ansinh.quality.models import Kind
from ansinh.quality.services import refresh
from ansinh.verification.models import Outcome
from tests.conftest import make_user

from .conftest import verify


@pytest.fixture
def problems(tree, make):
    """In A: one person without a payment method, one whose identity does not match. In B: one
    person without a payment method."""
    no_method = make("Phan Văn Chưa Chọn", method=False)
    mismatch = make("Trần Thị Lệch", verified=False)
    verify(mismatch, Outcome.MISMATCH, mismatched_fields=["birth_date"])
    in_b = make("Hồ Văn Bê", commune=tree.b, method=False)
    refresh()  # the nightly refresh_worklists
    return {"no_method": no_method, "mismatch": mismatch, "in_b": in_b}


def test_the_api_kinds_are_the_models():
    assert set(KindValue.__args__) == set(Kind.values)


def test_the_page_lists_the_communes_problems_with_their_fixes(tree, problems, officer_a, client_for):
    response = client_for(officer_a).get(reverse("worklists"))
    assert response.status_code == 200
    text = response.content.decode()
    b = problems["no_method"]
    assert b.full_name in text
    assert reverse("payments:method", args=[b.pk]) in text
    assert reverse("registry:edit", args=[problems["mismatch"].pk]) in text
    assert "Hồ Văn Bê" not in text
    assert b.cccd in text  # the commune officer may see CCCDs in full (registry.view_cccd) …


def test_a_province_monitor_sees_cccds_masked(tree, problems, viewer_a, client_for):
    text = client_for(viewer_a).get(reverse("worklists")).content.decode()
    b = problems["no_method"]
    assert b.full_name in text
    assert b.cccd not in text and b.masked_cccd in text  # … a province monitor may not


def test_fixing_removes_the_line_at_the_refresh(tree, problems, officer_a, client_for):
    client = client_for(officer_a)
    b = problems["no_method"]
    url = reverse("worklists") + "?kind=no_method"
    assert f'data-beneficiary="{b.pk}"' in client.get(url).content.decode()
    payments.set_payment_method(actor=officer_a, beneficiary=b, method="pay_point", cash_reason="choice")
    response = client.post(url, {"refresh": tree.a.pk})
    assert response.status_code == 302 and response["Location"].endswith(url)
    assert f'data-beneficiary="{b.pk}"' not in client.get(url).content.decode()


def test_opening_the_page_writes_nothing_and_says_when_the_list_was_updated(
    tree, make, officer_a, client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ansinh.quality.models import WorklistItem

    b = make("Phan Văn Mới", method=False)
    client = client_for(officer_a)
    with CaptureQueriesContext(connection) as ctx:
        text = client.get(reverse("worklists")).content.decode()
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "CREATE")]
    assert not [w for w in writes if "quality" in w or "TEMPORARY" in w.upper()]
    assert b.full_name not in text and 'data-state="never-refreshed"' in text
    assert not WorklistItem.objects.exists()
    client.post(reverse("worklists"), {"refresh": tree.a.pk})
    text = client.get(reverse("worklists")).content.decode()
    assert b.full_name in text and 'data-state="refreshed"' in text


def test_a_read_only_user_cannot_refresh(tree, problems, viewer_a, client_for):
    assert client_for(viewer_a).post(reverse("worklists"), {"refresh": tree.a.pk}).status_code == 403


def test_filters_by_kind_and_village(tree, problems, officer_a, client_for):
    client = client_for(officer_a)
    text = client.get(reverse("worklists") + "?kind=identity_mismatch").content.decode()
    assert problems["mismatch"].full_name in text and problems["no_method"].full_name not in text
    village = client.get(reverse("worklists"), {"commune": tree.a.pk, "village": tree.village_a.pk})
    assert problems["mismatch"].full_name in village.content.decode()


def test_another_commune_is_a_404_and_shows_nothing(tree, problems, officer_b, client_for):
    client = client_for(officer_b)
    assert client.get(reverse("worklists"), {"commune": tree.a.pk}).status_code == 404
    assert client.get(reverse("worklists"), {"village": tree.village_a.pk}).status_code == 404
    text = client.get(reverse("worklists")).content.decode()
    assert "Hồ Văn Bê" in text
    assert problems["no_method"].full_name not in text and problems["mismatch"].full_name not in text


def test_a_province_monitor_picks_a_commune(tree, problems, client_for):
    monitor = make_user("monitor", Role.PROVINCE_MONITOR, tree.province)
    refresh()
    client = client_for(monitor)
    page = client.get(reverse("worklists")).content.decode()
    assert "Hồ Văn Bê" in page and "Phan Văn Chưa Chọn" in page
    only_b = client.get(reverse("worklists"), {"commune": tree.b.pk}).content.decode()
    assert "Hồ Văn Bê" in only_b and "Phan Văn Chưa Chọn" not in only_b


def test_the_dashboard_shows_the_counts_per_kind(tree, problems, officer_a, client_for):
    refresh(area=tree.a)
    text = client_for(officer_a).get(reverse("dashboard")).content.decode()
    assert 'data-section="worklist"' in text
    assert "?kind=no_method" in text and 'data-figure="no_method"' in text


def test_a_role_without_the_worklists_gets_403(tree, problems, client_for):
    head = make_user("head", Role.VILLAGE_HEAD, tree.village_a)
    assert client_for(head).get(reverse("worklists")).status_code == 403


def test_the_api_lists_and_counts_the_users_items(tree, problems, officer_a, officer_b, api_client_for):
    refresh()
    api = api_client_for(officer_a)
    body = api.get("/api/v1/worklist-items").json()
    assert {i["beneficiary_id"] for i in body["items"]} == {problems["no_method"].pk, problems["mismatch"].pk}
    item = next(i for i in body["items"] if i["kind"] == "identity_mismatch")
    assert item["cccd_masked"] != problems["mismatch"].cccd and item["detail"]["outcome"] == "mismatch"
    only = api.get("/api/v1/worklist-items", {"kind": "no_method"}).json()
    assert [i["beneficiary_id"] for i in only["items"]] == [problems["no_method"].pk]
    counts = {c["kind"]: c["count"] for c in api.get("/api/v1/worklist-items/counts").json()}
    assert counts["no_method"] == 1 and counts["identity_mismatch"] == 1 and counts["deceased"] == 0
    outsider = api_client_for(officer_b)
    assert outsider.get("/api/v1/worklist-items", {"commune": tree.a.pk}).json()["items"] == []
    b_counts = {c["kind"]: c["count"] for c in outsider.get("/api/v1/worklist-items/counts").json()}
    assert b_counts["no_method"] == 1 and b_counts["identity_mismatch"] == 0


def test_a_duplicate_in_another_commune_never_shows_its_record(tree, make, officer_a, client_for, api_client_for):
    from ansinh.registry.models import Beneficiary

    in_b = make("Lâm Văn Trùng", commune=tree.b)
    in_a = make("Lâm Văn Trùng A")
    # B's record stopped, and an old list left its CCCD on A's record
    Beneficiary.objects.filter(pk=in_b.pk).update(status="stopped", stop_reason="ineligible")
    Beneficiary.objects.filter(pk=in_a.pk).update(cccd=in_b.cccd)
    refresh(area=tree.a)
    page = client_for(officer_a).get(reverse("worklists") + f"?kind={Kind.DUPLICATE_CCCD}").content.decode()
    assert "Lâm Văn Trùng A" in page
    assert f"/beneficiaries/{in_b.pk}/" not in page
    assert "xã khác có cùng số CCCD" in page
    items = api_client_for(officer_a).get(f"/api/v1/worklist-items?kind={Kind.DUPLICATE_CCCD}").json()["items"]
    (item,) = [i for i in items if i["beneficiary_id"] == in_a.pk]
    assert "other" not in item["detail"] and item["detail"]["other_commune"] is True
