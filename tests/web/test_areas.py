import pytest
from django.urls import reverse

from ansinh.areas.models import Area, Level
from ansinh.audit.models import AuditEvent

HX = {"HTTP_HX_REQUEST": "true"}


def detail(area):
    return reverse("areas:detail", args=[area.pk])


def create_url(area):
    return reverse("areas:create_village", args=[area.pk])


# --- list --------------------------------------------------------------------------------------


def test_officer_a_lists_their_commune_and_its_villages(client_for, officer_a, tree):
    body = client_for(officer_a).get(reverse("areas:list")).content.decode()
    assert "Phường Châu Phú A" in body
    assert "Khóm Châu Long 1" in body
    assert "Vĩnh Mỹ" not in body
    assert "Thành phố Châu Đốc" not in body  # above the officer's area: not listed


def test_officer_b_does_not_list_a(client_for, officer_b):
    body = client_for(officer_b).get(reverse("areas:list")).content.decode()
    assert "Vĩnh Mỹ" in body
    assert "Châu Phú A" not in body


def test_search_finds_without_accents_and_only_inside_own_areas(client_for, officer_a, officer_b):
    body = client_for(officer_a).get(reverse("areas:list"), {"q": "chau long"}).content.decode()
    assert "Khóm Châu Long 1" in body
    body = client_for(officer_b).get(reverse("areas:list"), {"q": "chau long"}).content.decode()
    assert "Khóm Châu Long 1" not in body


def test_district_user_sees_communes_below(client_for, tree):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    user = make_user("district_officer", Role.OFFICE_OFFICER, tree.district)
    body = client_for(user).get(reverse("areas:list")).content.decode()
    assert "Phường Châu Phú A" in body
    assert "Phường Vĩnh Mỹ" in body


def test_area_list_query_count_does_not_grow_with_children(client_for, officer_a, tree, django_assert_max_num_queries):
    for i in range(30):
        Area.objects.create(tree=tree.a.tree, level=Level.VILLAGE, name=f"Thôn {i}", parent=tree.a)
    client = client_for(officer_a)
    with django_assert_max_num_queries(11):
        assert client.get(reverse("areas:list"), {"q": "thon"}).status_code == 200


# --- detail ------------------------------------------------------------------------------------


def test_officer_a_sees_area_detail_with_villages_units_and_form(client_for, officer_a, tree, units):
    response = client_for(officer_a).get(detail(tree.a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Khóm Châu Long 1" in body
    assert "UBND phường Châu Phú A" in body  # seated here
    assert "Phòng LĐTBXH Châu Đốc" in body  # responsible (approves) through the district
    assert f'action="{create_url(tree.a)}"' in body
    assert 'id="history"' in body


def test_viewer_a_sees_detail_without_the_village_form(client_for, viewer_a, tree):
    response = client_for(viewer_a).get(detail(tree.a))
    assert response.status_code == 200
    assert create_url(tree.a) not in response.content.decode()


def test_officer_b_gets_404_on_a(client_for, officer_b, tree):
    client = client_for(officer_b)
    assert client.get(detail(tree.a)).status_code == 404
    assert client.get(detail(tree.village_a)).status_code == 404
    assert client.get(detail(tree.district)).status_code == 404
    assert client.get(detail(tree.b)).status_code == 200


def test_no_village_form_on_a_district(client_for, tree):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    user = make_user("admin_province", Role.SYSADMIN, tree.province)
    body = client_for(user).get(detail(tree.district)).content.decode()
    assert "create_village" not in body and "/villages/" not in body


def test_village_head_sees_the_village_without_history(client_for, tree):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    head = make_user("head", Role.VILLAGE_HEAD, tree.village_a)
    client = client_for(head)
    response = client.get(detail(tree.village_a))
    assert response.status_code == 200
    assert 'id="history"' not in response.content.decode()
    assert client.get(detail(tree.a)).status_code == 404


def test_area_detail_query_count(client_for, officer_a, tree, units, django_assert_max_num_queries):
    client = client_for(officer_a)
    with django_assert_max_num_queries(20):
        assert client.get(detail(tree.a)).status_code == 200


# --- create a village --------------------------------------------------------------------------


def test_officer_a_creates_a_village_without_javascript(client_for, officer_a, tree):
    client = client_for(officer_a)
    response = client.post(create_url(tree.a), {"kind": "Khóm", "name": "châu  long 2"})
    assert response.status_code == 302
    assert response["Location"] == detail(tree.a) + "#villages"
    village = Area.objects.get(parent=tree.a, name="Châu Long 2")
    assert village.division_type == "Khóm"
    event = AuditEvent.objects.get(action="areas.village.created")
    assert event.actor == officer_a
    page = client.get(response["Location"]).content.decode()
    assert "Khóm Châu Long 2" in page


def test_officer_a_creates_a_village_with_htmx(client_for, officer_a, tree):
    response = client_for(officer_a).post(create_url(tree.a), {"kind": "Ấp", "name": "An Hòa"}, **HX)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card mb-3" id="villages"')
    assert "<html" not in body
    assert "Ấp An Hòa" in body
    assert "Khóm Châu Long 1" in body


def test_duplicate_village_is_refused_next_to_the_field(client_for, officer_a, tree):
    client = client_for(officer_a)
    response = client.post(create_url(tree.a), {"kind": "", "name": "khom chau long 1"}, **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert "is-invalid" in body
    assert Area.objects.filter(parent=tree.a).count() == 1
    response = client.post(create_url(tree.a), {"kind": "", "name": ""})
    assert response.status_code == 422
    assert "<html" in response.content.decode()  # the whole page again, with the errors


def test_viewer_a_may_not_create_a_village(client_for, viewer_a, tree):
    response = client_for(viewer_a).post(create_url(tree.a), {"name": "Thôn Mới"})
    assert response.status_code == 403
    assert not Area.objects.filter(name="Thôn Mới").exists()


def test_officer_b_gets_404_creating_in_a(client_for, officer_b, tree):
    response = client_for(officer_b).post(create_url(tree.a), {"name": "Thôn Mới"})
    assert response.status_code == 404
    assert not Area.objects.filter(name="Thôn Mới").exists()


def test_villages_only_under_a_commune(client_for, officer_a, tree):
    response = client_for(officer_a).post(create_url(tree.village_a), {"name": "Thôn Mới"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_create_village_is_post_only(client_for, officer_a, tree):
    assert client_for(officer_a).get(create_url(tree.a)).status_code == 405
