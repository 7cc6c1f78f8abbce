"""The demo's system administrator gets staff and superuser rights through the audited service."""

import pytest

from ansinh.accounts.models import User
from ansinh.areas.models import Area, Level, Tree
from ansinh.audit.models import AuditEvent
from ansinh.demo import organisations


@pytest.fixture
def current_pilot(db):
    """Current An Giang (91) with the two demo communes."""
    province = Area.objects.create(tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang")
    for code, name in ((organisations.HOME_COMMUNE, "Châu Đốc"), (organisations.OTHER_COMMUNE, "Thới Sơn")):
        Area.objects.create(
            tree=Tree.CURRENT, level=Level.COMMUNE, code=code, name=name, division_type="Phường", parent=province
        )
    return province


def test_demo_superuser_is_granted_through_an_audited_service(current_pilot):
    organisations.load_current_users()
    admin = User.objects.get(username="quantri")
    assert admin.is_staff and admin.is_superuser
    event = AuditEvent.objects.get(action="accounts.user.changed", object_id=str(admin.pk))
    assert event.before == {"is_staff": False, "is_superuser": False}
    assert event.after == {"is_staff": True, "is_superuser": True}
    assert event.actor is None and event.actor_label == "system"

    organisations.load_current_users()  # idempotent: nothing more to record
    assert AuditEvent.objects.filter(action="accounts.user.changed").count() == 1
