"""The demo's system administrator gets staff and superuser rights through the audited service."""

import pytest

from ansinh.accounts.models import User
from ansinh.areas.models import Area, Level, Tree
from ansinh.audit.models import AuditEvent
from ansinh.demo import organisations


@pytest.fixture
def pilot_tree(tree):
    tinh_bien = Area.objects.create(
        tree=Tree.LEGACY,
        level=Level.DISTRICT,
        code="890",
        name="Tịnh Biên",
        division_type="Thị xã",
        parent=tree.province,
    )
    Area.objects.create(
        tree=Tree.LEGACY, level=Level.COMMUNE, code="30316", name="Nhà Bàng", division_type="Phường", parent=tinh_bien
    )
    return tree


def test_demo_superuser_is_granted_through_an_audited_service(pilot_tree):
    organisations.load_users()
    admin = User.objects.get(username="quantri")
    assert admin.is_staff and admin.is_superuser
    event = AuditEvent.objects.get(action="accounts.user.changed", object_id=str(admin.pk))
    assert event.before == {"is_staff": False, "is_superuser": False}
    assert event.after == {"is_staff": True, "is_superuser": True}
    assert event.actor is None and event.actor_label == "system"

    organisations.load_users()  # idempotent: nothing more to record
    assert AuditEvent.objects.filter(action="accounts.user.changed").count() == 1
