from django.urls import reverse

from ansinh.accounts.models import OrgKind
from ansinh.accounts.services import create_org_unit


def test_officer_a_sees_units_in_a_only(client_for, officer_a, units):
    body = client_for(officer_a).get(reverse("orgs:list")).content.decode()
    assert "UBND phường Châu Phú A" in body
    assert "UBND phường Vĩnh Mỹ" not in body
    assert "Phòng LĐTBXH Châu Đốc" not in body  # seated in the district, above A


def test_officer_b_does_not_see_a(client_for, officer_b, units):
    body = client_for(officer_b).get(reverse("orgs:list")).content.decode()
    assert "UBND phường Vĩnh Mỹ" in body
    assert "Châu Phú A" not in body


def test_viewer_a_sees_units_in_a(client_for, viewer_a, units):
    assert "UBND phường Châu Phú A" in client_for(viewer_a).get(reverse("orgs:list")).content.decode()


def test_district_officer_sees_responsibilities_and_filters_by_kind(client_for, tree, units):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    client = client_for(make_user("district", Role.OFFICE_OFFICER, tree.district))
    body = client.get(reverse("orgs:list")).content.decode()
    assert "Phòng LĐTBXH Châu Đốc" in body and "UBND phường Vĩnh Mỹ" in body
    body = client.get(reverse("orgs:list"), {"kind": OrgKind.APPROVING_OFFICE}).content.decode()
    assert "Phòng LĐTBXH Châu Đốc" in body and "UBND phường Vĩnh Mỹ" not in body


def test_provider_staff_may_not_open_the_list(client_for, tree):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    user = make_user("post", Role.PROVIDER_STAFF, tree.district)
    assert client_for(user).get(reverse("orgs:list")).status_code == 403


def test_org_list_query_count(client_for, tree, units, django_assert_max_num_queries):
    from ansinh.accounts.roles import Role
    from tests.conftest import make_user

    for i in range(20):
        create_org_unit(actor=None, kind=OrgKind.PROVIDER, name=f"Bưu điện {i}", area=tree.district)
    client = client_for(make_user("district", Role.OFFICE_OFFICER, tree.district))
    with django_assert_max_num_queries(10):
        assert client.get(reverse("orgs:list")).status_code == 200
