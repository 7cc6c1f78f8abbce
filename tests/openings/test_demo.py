"""load_demo_openings: requests in flight in the demo communes, one batch answered by the sandbox;
a second call adds nothing."""

from datetime import date

import pytest

from ansinh.accounts.roles import Role
from ansinh.areas.models import Area, Level, Tree
from ansinh.openings.demo import load_demo_openings
from ansinh.openings.models import OpeningBatch, OpeningRequest, RequestStatus
from ansinh.registry import services as registry_services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput
from tests.conftest import make_user
from tests.factories import cccd_for

pytestmark = pytest.mark.django_db


def test_the_demo_puts_requests_in_flight_once(policy):
    province = Area.objects.create(tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang")
    home = Area.objects.create(tree=Tree.CURRENT, level=Level.COMMUNE, code="30316", name="Châu Đốc", parent=province)
    other = Area.objects.create(tree=Tree.CURRENT, level=Level.COMMUNE, code="30502", name="Thới Sơn", parent=province)
    village = Area.objects.create(tree=Tree.CURRENT, level=Level.VILLAGE, name="Khóm 1", parent=home)
    officer = make_user("canbo.xa", Role.COMMUNE_OFFICER, home)
    make_user("truong.khom", Role.VILLAGE_HEAD, village)
    make_user("canbo.tinhbien", Role.COMMUNE_OFFICER, other)
    given = ["An", "Bình", "Cúc", "Dung", "Hoa", "Lan", "Mai", "Nga", "Oanh"]
    middle = ["Thị", "Ngọc", "Kim", "Mỹ", "Thu", "Hồng", "Bích"]
    for i in range(63):
        commune = home if i < 55 else other
        birth = date(1940, 1, 1 + i % 28)
        registry_services.create_beneficiary(
            actor=officer if commune == home else None,
            data=BeneficiaryInput(
                full_name=f"Nguyễn {middle[i // 9]} {given[i % 9]}",
                birth_date=birth,
                gender="female",
                commune_id=commune.pk,
                village_id=village.pk if commune == home else None,
                cccd=cccd_for(birth, "female", f"{500000 + i}"),
                phone="0912345678",
                categories=[CategoryInput(code="D20.5.5.c")],
                decision_number=f"{i}/QĐ",
                decision_date=date(2024, 3, 12),
            ),
        )
    first = load_demo_openings()
    assert first["batches"] == 1 and first["opened"] > 0
    assert first["confirmed"] == 10 and first["requested"] == 9
    statuses = set(OpeningRequest.objects.values_list("status", flat=True))
    assert {RequestStatus.REQUESTED, RequestStatus.CONFIRMED, RequestStatus.OPENED} <= statuses
    assert OpeningRequest.objects.filter(requested_by__username="truong.khom").count() == 5
    counts = (OpeningRequest.objects.count(), OpeningBatch.objects.count())
    assert load_demo_openings()["batches"] == 0
    assert (OpeningRequest.objects.count(), OpeningBatch.objects.count()) == counts
