"""A small payment-cycle world on the conftest tree: the People's Committees of communes A and B
approve (as since 2025), the district post office pays, and one user per role in A."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from ansinh.accounts.models import Function, OrgKind
from ansinh.accounts.roles import Role
from ansinh.accounts.services import assign_responsibility, create_org_unit
from tests.conftest import make_user


@dataclass
class World:
    tree: object
    unit_a: object
    unit_b: object
    post: object


@pytest.fixture
def world(tree, policy):
    unit_a = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND Châu Phú A", area=tree.a)
    unit_b = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND Vĩnh Mỹ", area=tree.b)
    post = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name="Bưu điện Châu Đốc", area=tree.district)
    for unit, area in ((unit_a, tree.a), (unit_b, tree.b)):
        assign_responsibility(actor=None, org_unit=unit, area=area, function=Function.APPROVE)
        assign_responsibility(actor=None, org_unit=post, area=area, function=Function.PAY)
    return World(tree, unit_a, unit_b, post)


@pytest.fixture
def preparer_a(tree):
    return make_user("preparer_a", Role.OFFICE_OFFICER, tree.a, phone="+84912345678")


@pytest.fixture
def approver_a(tree):
    return make_user("approver_a", Role.APPROVER, tree.a)


@pytest.fixture
def provider_a(tree):
    return make_user("provider_a", Role.PROVIDER_STAFF, tree.a)


MONTH = date(2026, 2, 1)  # Tết 2026: 16–20 February


def appraise(cycle, actor=None):
    """Bring an open cycle to "appraised" the way the office does (test helper shared by the
    payroll tests): build the communes' change lists, submit them (actor None: a system run),
    accept them (as `actor`, None for a system run), appraise."""
    from ansinh.payroll import changelists
    from ansinh.payroll.models import ChangeList, ChangeListState

    changelists.build_change_lists(actor=None, cycle=cycle)
    for cl in ChangeList.objects.filter(cycle=cycle, state__in=changelists.EDITABLE, used_previous=False):
        changelists.submit(actor=None, change_list=cl)
    for cl in ChangeList.objects.filter(cycle=cycle, state=ChangeListState.SUBMITTED):
        changelists.accept(actor=actor, change_list=cl)
    return changelists.appraise(actor=actor, cycle=cycle)
