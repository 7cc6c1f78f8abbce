"""Cash pay-out fixtures (issue 12), shared by the cash tests.

`cash_cycle`: commune A's approved and funded cycle of March 2026 (built through the services as in
tests/disbursement/conftest.py): three beneficiaries paid at a pay point (two in village 1, one
in village 2), two paid at home (village 1) and one account holder. Commune A has one pay point
serving the whole commune and one home-delivery route through village 1, each staffed by
`provider_a`.

`cash_lists`: the cycle's cash lists, built by `lists.build_cash_lists`."""

from __future__ import annotations

from datetime import date

import pytest

from ansinh.areas.models import Area, Level, Tree
from ansinh.payments.models import PaymentMethod
from tests.disbursement.conftest import (  # noqa: F401
    MONTH,
    _no_throttle_wait,
    approved,
    contract,
    funded,
    open_account,
    person,
    totp_code,
)
from tests.payroll.conftest import appraise, approver_a, preparer_a, provider_a, world  # noqa: F401

PAY_POINT_PEOPLE = ("Trần Văn Điểm", "Lê Thị Chi", "Phạm Văn Làng Hai")
HOME_PEOPLE = ("Nguyễn Thị Tại Nhà", "Võ Văn Ở Nhà")
ACCOUNT_PERSON = "Đặng Thị Tài Khoản"


@pytest.fixture
def village_b(world):  # noqa: F811
    return Area.objects.create(
        tree=Tree.LEGACY, level=Level.VILLAGE, name="Khóm Châu Long 2", division_type="", parent=world.tree.a
    )


@pytest.fixture
def extra_people() -> int:
    """More people paid at a pay point (a test overrides it to show a cost that does not grow)."""
    return 0


@pytest.fixture
def people(world, village_b, extra_people):  # noqa: F811
    """Overrides tests/disbursement's `people` for the `approved` / `funded` fixtures."""
    tree = world.tree
    out = {}
    for i in range(extra_people):
        b = person(tree, f"Người Thêm {i}")
        PaymentMethod.objects.create(beneficiary=b, method="pay_point", cash_reason="choice", from_month=MONTH)
    for name in PAY_POINT_PEOPLE:
        b = person(tree, name)
        if name == "Phạm Văn Làng Hai":
            b.village = village_b
            b.area_path = village_b.path
            b.save(update_fields=["village", "area_path"])
        PaymentMethod.objects.create(beneficiary=b, method="pay_point", cash_reason="choice", from_month=MONTH)
        out[name] = b
    for name in HOME_PEOPLE:
        b = person(tree, name)
        PaymentMethod.objects.create(beneficiary=b, method="home", cash_reason="frail", from_month=MONTH)
        out[name] = b
    b = person(tree, ACCOUNT_PERSON)
    acc = open_account(b, "1000200039999")
    PaymentMethod.objects.create(beneficiary=b, method="account", account=acc, from_month=MONTH)
    out[ACCOUNT_PERSON] = b
    return out


@pytest.fixture
def cash_places(world, preparer_a, provider_a):  # noqa: F811
    """Commune A's pay point (the whole commune) and its route through village 1."""
    from ansinh.cashout import pay_points

    point = pay_points.create_pay_point(
        actor=preparer_a,
        commune=world.tree.a,
        data=pay_points.PayPointInput(
            name="Bưu điện Châu Phú A",
            kind="post_office",
            address="12 Tôn Đức Thắng",
            atm_nearby=True,
            atm_note="Agribank, cạnh chợ",
            staff=[provider_a],
        ),
    )
    route = pay_points.create_route(
        actor=preparer_a,
        commune=world.tree.a,
        data=pay_points.RouteInput(name="Tuyến Khóm Châu Long 1", villages=[world.tree.village_a], staff=[provider_a]),
    )
    return point, route


@pytest.fixture
def cash_cycle(funded, cash_places):  # noqa: F811
    return funded


@pytest.fixture
def cash_lists(cash_cycle, preparer_a):  # noqa: F811
    from ansinh.cashout.lists import build_cash_lists
    from ansinh.cashout.models import CashList

    build_cash_lists(actor=preparer_a, cycle=cash_cycle)
    return list(CashList.objects.filter(cycle=cash_cycle).order_by("kind", "id"))


__all__ = ["MONTH", "date"]
