"""The demo's complaints: every state, one overdue, added once."""

from django.utils import timezone

from ansinh.accounts.roles import Role
from ansinh.areas.models import Area, Level, Tree
from ansinh.complaints.demo import load_demo_complaints
from ansinh.complaints.models import Complaint, State
from tests.conftest import make_user


def test_demo_complaints_cover_every_state_once(db):
    province = Area.objects.create(tree=Tree.CURRENT, level=Level.PROVINCE, code="89", name="An Giang")
    commune = Area.objects.create(
        tree=Tree.CURRENT, level=Level.COMMUNE, code="30316", name="Châu Đốc", parent=province
    )
    make_user("canbo.xa", Role.COMMUNE_OFFICER, commune)
    make_user("buudien", Role.PROVIDER_STAFF, commune)
    assert load_demo_complaints() == 6
    assert load_demo_complaints() == 0
    states = sorted(Complaint.objects.values_list("state", flat=True))
    assert states == sorted(
        [State.LODGED, State.IN_PROGRESS, State.RESOLVED, State.REJECTED, State.WITHDRAWN, State.LODGED]
    )
    today = timezone.localdate()
    assert sum(c.is_overdue(today) for c in Complaint.objects.all()) == 1
