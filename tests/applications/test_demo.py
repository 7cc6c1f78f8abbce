"""The demo's applications: one in every state, through the services, and loaded once."""

from __future__ import annotations

import pytest

from ansinh.accounts.roles import Role
from ansinh.applications.demo import COMMUNE, OFFICER, load_demo_applications
from ansinh.applications.models import Application, State
from ansinh.areas.models import Area, Level, Tree
from ansinh.registry.models import Beneficiary
from tests.conftest import make_user


@pytest.fixture
def demo_commune(db, policy, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    province = Area.objects.create(
        tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang", division_type="Tỉnh"
    )
    commune = Area.objects.create(
        tree=Tree.CURRENT, level=Level.COMMUNE, code=COMMUNE, name="Châu Đốc", division_type="Phường", parent=province
    )
    Area.objects.create(tree=Tree.CURRENT, level=Level.VILLAGE, name="Khóm Châu Long 1", parent=commune)
    make_user(OFFICER, Role.COMMUNE_OFFICER, commune)
    return commune


def test_the_demo_has_an_application_in_every_state_and_loads_once(demo_commune):
    assert load_demo_applications()["created"] == 8
    states = set(Application.objects.values_list("state", flat=True))
    assert states == set(State.values) - {State.WITHDRAWN}
    approved = Application.objects.get(state=State.APPROVED)
    assert Beneficiary.objects.get(pk=approved.beneficiary_id).cccd == approved.cccd
    assert load_demo_applications()["created"] == 0
    assert Application.objects.count() == 8
