import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from ansinh.accounts.models import User
from ansinh.accounts.roles import Role
from tests.conftest import make_user
from tests.registry.test_stats import A, B, registry_fixture  # noqa: F401 (the `registry` fixture)


def test_officer_sees_the_commune_officer_card_with_their_commune(client_for, officer_a, tree):
    response = client_for(officer_a).get(reverse("dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-role="commune_officer"' in body
    assert "Phường Châu Phú A" in body
    assert 'data-section="figures"' in body  # the registry's figures of the month
    assert 'data-state="being-built"' in body  # and an honest note on the payment part
    assert reverse("areas:detail", args=[tree.a.pk]) in body
    assert "Vĩnh Mỹ" not in body


def test_each_role_held_gets_its_own_card(client_for, tree):
    user = make_user("two_roles", Role.COMMUNE_OFFICER, tree.a)
    from ansinh.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=user, role=Role.COMMUNE_POLICE, area=tree.a)
    body = client_for(user).get(reverse("dashboard")).content.decode()
    assert 'data-role="commune_officer"' in body
    assert 'data-role="commune_police"' in body


def test_viewer_card_links_only_to_pages_open_to_them(client_for, viewer_a):
    body = client_for(viewer_a).get(reverse("dashboard")).content.decode()
    assert 'data-role="province_monitor"' in body
    assert 'data-role="commune_officer"' not in body


def test_provider_staff_menu_has_no_audit_log(client_for, tree):
    user = make_user("post_office", Role.PROVIDER_STAFF, tree.district)
    body = client_for(user).get(reverse("dashboard")).content.decode()
    assert 'data-nav="areas"' in body
    assert 'data-nav="audit"' not in body


def test_user_without_role_is_told_to_ask_for_one(client_for, db):
    user = User.objects.create_user(username="nobody", password="x" * 12)
    response = client_for(user).get(reverse("dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-state="no-role"' in body
    assert 'data-nav="areas"' not in body


def test_dashboard_query_count(client_for, officer_a, django_assert_max_num_queries):
    client = client_for(officer_a)
    # 12, + the data-quality worklist counts, + the account-coverage block (one aggregate each)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("dashboard")).status_code == 200


# --- figures (registry.stats; the numbers themselves: tests/registry/test_stats.py) -------------


def figure_links(body: str) -> dict[str, list[str]]:
    """data-figure -> the hrefs of the figures' links, in page order."""
    links: dict[str, list[str]] = {}
    for m in re.finditer(r'<a href="([^"]*)" data-figure="([a-z_]+)">', body):
        links.setdefault(m.group(2), []).append(html.unescape(m.group(1)))
    return links


def test_commune_officer_figures_link_to_the_filtered_lists(client_for, registry, officer_a):
    body = client_for(officer_a).get(reverse("dashboard")).content.decode()
    month = timezone.localdate().strftime("%m/%Y")
    assert f"Số liệu tháng {month}" in body
    values = dict(re.findall(r'data-figure="([a-z_]+)">(\d+)<', body))
    assert values == {k: str(v) for k, v in A.items()}
    listed = reverse("registry:list")
    assert figure_links(body) == {
        "receiving": [f"{listed}?status=active"],
        "started": [f"{listed}?change=started"],
        "stopped": [f"{listed}?change=stopped"],
        "issues": [f"{listed}?issues=on"],
        "imports": [reverse("imports:index")],
    }  # nobody is moving in: a zero is not a link to an empty list
    for figure, (href,) in figure_links(body).items():
        page = client_for(officer_a).get(href)
        assert page.status_code == 200, figure
        if href.startswith(f"{listed}?"):
            assert page.context["page"].paginator.count == A[figure], figure


def test_district_office_gets_a_table_with_drill_down_and_totals(client_for, registry):
    office = make_user("office", Role.OFFICE_OFFICER, registry.district)
    body = client_for(office).get(reverse("dashboard")).content.decode()
    assert len(re.findall(r"<tr[^>]* data-commune=", body)) == 3  # A, B and the totals
    listed = reverse("registry:list")
    links = figure_links(body)
    a, b = registry.a.pk, registry.b.pk
    # B has no start this month: its zero is no link
    assert links["started"] == [f"{listed}?area={a}&change=started", f"{listed}?change=started"]
    assert links["receiving"][:2] == [f"{listed}?area={a}&status=active", f"{listed}?area={b}&status=active"]
    assert "imports" not in links  # the office does not import: the figure is not a link
    assert links["moving_in"] == [reverse("registry:moves")] * 2  # B's row and the total
    for href, expected in ((links["receiving"][0], A), (links["receiving"][1], B)):
        page = client_for(office).get(href)
        assert page.context["page"].paginator.count == expected["receiving"]
    total = re.search(r'<tr class="fw-semibold" data-commune="total">(.*?)</tr>', body, re.S).group(1)
    assert re.findall(r'data-figure="[a-z_]+">(\d+)<', total) == [str(A[k] + B[k]) for k in A]


def test_officer_b_dashboard_shows_nothing_of_a(client_for, registry, officer_b):
    body = client_for(officer_b).get(reverse("dashboard")).content.decode()
    assert "Châu Phú A" not in body
    assert f'data-commune="{registry.a.pk}"' not in body
    values = dict(re.findall(r'data-figure="([a-z_]+)">(\d+)<', body))
    assert values == {k: str(v) for k, v in B.items()}


@pytest.mark.parametrize("role", [Role.PROVIDER_STAFF, Role.TREASURY_VIEWER, Role.APPROVER])
def test_roles_whose_work_is_being_built_get_an_honest_note_and_only_working_links(client_for, tree, role):
    user = make_user("someone", role, tree.district)
    client = client_for(user)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Phần chi trả đang được xây dựng" in body
    assert "Chưa có dữ liệu" not in body
    hrefs = set(re.findall(r'<a [^>]*href="(/[^"#]*)"', html.unescape(body)))
    assert hrefs
    for href in hrefs - {reverse("logout")}:
        assert client.get(href).status_code == 200, href
    assert ('data-section="figures"' in body) == (role == Role.APPROVER)  # the approver reads the registry


def test_figures_cost_a_bounded_number_of_queries_for_the_province(client_for, registry, django_assert_max_num_queries):
    monitor = make_user("monitor", Role.PROVINCE_MONITOR, registry.province)
    client = client_for(monitor)
    # 12, + the data-quality worklist counts, + the account-coverage block (one aggregate each)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("dashboard")).status_code == 200


def test_drill_down_works_where_the_area_filter_lists_only_the_top_areas(client_for, registry, monkeypatch):
    """Above AREA_CHOICES_UP_TO communes the list's area filter offers the user's areas and the
    level below; a commune chosen on the dashboard is still accepted."""
    from ansinh.web.views import registry as registry_views

    monkeypatch.setattr(registry_views, "AREA_CHOICES_UP_TO", 1)
    monitor = make_user("monitor", Role.PROVINCE_MONITOR, registry.province)
    client = client_for(monitor)
    page = client.get(reverse("registry:list"), {"area": registry.a.pk, "status": "active"})
    assert page.context["page"].paginator.count == A["receiving"]
    assert client.get(reverse("registry:list"), {"area": 999999}).context["page"].paginator.count == 0
