"""Demo organisations and one user per role for An Giang province, as in the source documents:
the pilot ran in Châu Đốc city (884) and Tịnh Biên town (890) of the pre-2025 tree, whose offices
are kept as history; since the 2025 reform the demo lives in current An Giang (91), with the
commune deciding (Decree 147/2025) and one user per role on current-tree areas.
All people are invented; logins are for the demo only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from ansinh.accounts.models import Function, OrgKind, OrgUnit, RoleAssignment, User
from ansinh.accounts.roles import Role
from ansinh.accounts.services import (
    assign_responsibility,
    assign_role,
    create_org_unit,
    create_user,
    update_user,
)
from ansinh.areas.models import CURRENT_START, Area, Level, Tree

DEMO_PASSWORD = "ansinh-demo-2026"
PROVINCE_CODE = "89"
PILOT_DISTRICTS = {"884": "Châu Đốc", "890": "Tịnh Biên"}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: str
    area: str


def _legacy(code: str) -> Area:
    return Area.objects.get(tree=Tree.LEGACY, code=code)


@transaction.atomic
def load_organisations() -> dict[str, int]:
    province = _legacy(PROVINCE_CODE)
    dept = create_org_unit(
        actor=None,
        kind=OrgKind.PROVINCE_DEPARTMENT,
        area=province,
        name="Sở Lao động – Thương binh và Xã hội tỉnh An Giang",
        short_name="Sở LĐTBXH",
    )
    assign_responsibility(actor=None, org_unit=dept, area=province, function=Function.MONITOR)
    for code, name in PILOT_DISTRICTS.items():
        district = _legacy(code)
        kind_name = "thành phố" if district.division_type.lower().startswith("thành") else "thị xã"
        office = create_org_unit(
            actor=None,
            kind=OrgKind.APPROVING_OFFICE,
            area=district,
            name=f"Phòng Lao động – Thương binh và Xã hội {kind_name} {name}",
            short_name=f"Phòng LĐTBXH {name}",
        )
        post = create_org_unit(
            actor=None,
            kind=OrgKind.PROVIDER,
            area=district,
            name=f"Bưu điện {kind_name} {name}",
            short_name=f"Bưu điện {name}",
        )
        treasury = create_org_unit(
            actor=None,
            kind=OrgKind.TREASURY,
            area=district,
            name=f"Kho bạc Nhà nước {name}",
            short_name=f"KBNN {name}",
        )
        finance = create_org_unit(
            actor=None,
            kind=OrgKind.FINANCE_OFFICE,
            area=district,
            name=f"Phòng Tài chính – Kế hoạch {kind_name} {name}",
            short_name=f"Phòng TC-KH {name}",
        )
        for unit, function in (
            (office, Function.APPRAISE),
            (office, Function.APPROVE),
            (post, Function.PAY),
            (treasury, Function.FUND),
            (finance, Function.SETTLE),
        ):
            assign_responsibility(actor=None, org_unit=unit, area=district, function=function)
        for commune in Area.objects.filter(parent=district, level=Level.COMMUNE):
            create_org_unit(
                actor=None,
                kind=OrgKind.COMMUNE_COMMITTEE,
                area=commune,
                name=f"UBND {commune.full_name}",
                short_name=f"UBND {commune.name}",
            )
    return {"org_units": OrgUnit.objects.count()}


# --- the tree in force from 2025-07-01 -------------------------------------------------------------

CURRENT_PROVINCE_CODE = "91"  # An Giang, merged with Kiên Giang
# the current communes of the two pilot units (successors of Châu Đốc 884 and Tịnh Biên 890)
CURRENT_PILOT_COMMUNES = ("30316", "30325", "30502", "30505", "30520", "30526", "30538")
HOME_COMMUNE = "30316"  # Phường Châu Đốc: the demo's commune
OTHER_COMMUNE = "30502"  # Phường Thới Sơn (Tịnh Biên): an officer who must see nothing of Châu Đốc


def _current(code: str) -> Area:
    return Area.objects.get(tree=Tree.CURRENT, code=code)


@transaction.atomic
def load_current_organisations() -> dict[str, int]:
    """Since 2025-07-01 the commune People's Committee chairperson decides (Decree 147/2025);
    in the demo the commune also appraises and settles with the post office, which pays; the
    State treasury advances funds and the provincial Department of Health (social protection
    since 2025) monitors. Which unit does what stays configuration (Responsibility rows)."""
    province = _current(CURRENT_PROVINCE_CODE)
    dept = create_org_unit(
        actor=None,
        kind=OrgKind.PROVINCE_DEPARTMENT,
        area=province,
        name="Sở Y tế tỉnh An Giang",
        short_name="Sở Y tế",
    )
    assign_responsibility(actor=None, org_unit=dept, area=province, function=Function.MONITOR, valid_from=CURRENT_START)
    post = create_org_unit(
        actor=None, kind=OrgKind.PROVIDER, area=province, name="Bưu điện tỉnh An Giang", short_name="Bưu điện An Giang"
    )
    treasury = create_org_unit(
        actor=None,
        kind=OrgKind.TREASURY,
        area=province,
        name="Kho bạc Nhà nước khu vực – An Giang",
        short_name="KBNN An Giang",
    )
    for code in CURRENT_PILOT_COMMUNES:
        commune = _current(code)
        committee = create_org_unit(
            actor=None,
            kind=OrgKind.COMMUNE_COMMITTEE,
            area=commune,
            name=f"UBND {commune.division_type.lower()} {commune.name}",
            short_name=f"UBND {commune.name}",
        )
        for unit, function in (
            (committee, Function.APPRAISE),
            (committee, Function.APPROVE),
            (committee, Function.SETTLE),
            (post, Function.PAY),
            (treasury, Function.FUND),
        ):
            assign_responsibility(actor=None, org_unit=unit, area=commune, function=function, valid_from=CURRENT_START)
    return {"org_units": OrgUnit.objects.count()}


def current_demo_users() -> list[tuple[str, str, str, str]]:
    """(username, full name, role, area code or 'village:<commune code>') on the current tree:
    the same logins and names as before the reform; the commune does the work the district
    office did (prepares, and its chairperson approves), the province monitors."""
    return [
        ("canbo.xa", "Lê Thị Thu Hà", Role.COMMUNE_OFFICER, HOME_COMMUNE),
        ("truong.khom", "Nguyễn Văn Phúc", Role.VILLAGE_HEAD, f"village:{HOME_COMMUNE}"),
        ("congan.xa", "Trần Quốc Bảo", Role.COMMUNE_POLICE, HOME_COMMUNE),
        ("canbo.phong", "Phạm Thị Ngọc Lan", Role.OFFICE_OFFICER, HOME_COMMUNE),
        ("lanhdao.phong", "Võ Minh Tâm", Role.APPROVER, HOME_COMMUNE),
        ("buudien", "Huỳnh Thị Kim Yến", Role.PROVIDER_STAFF, HOME_COMMUNE),
        ("khobac", "Đặng Văn Hùng", Role.TREASURY_VIEWER, HOME_COMMUNE),
        ("so.tinh", "Châu Thị Mỹ Linh", Role.PROVINCE_MONITOR, CURRENT_PROVINCE_CODE),
        ("quantri", "Quản trị hệ thống", Role.SYSADMIN, CURRENT_PROVINCE_CODE),
        ("canbo.tinhbien", "Néang Sa Rươne", Role.COMMUNE_OFFICER, OTHER_COMMUNE),
    ]


@transaction.atomic
def load_current_users() -> list[DemoLogin]:
    logins = []
    for username, full_name, role, where in current_demo_users():
        if where.startswith("village:"):
            commune = _current(where.split(":", 1)[1])
            area = Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key").first() or commune
        else:
            area = _current(where)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_user(actor=None, username=username, full_name=full_name, password=DEMO_PASSWORD)
        if role == Role.SYSADMIN:
            user = update_user(actor=None, user=user, changes={"is_staff": True, "is_superuser": True})
        if not RoleAssignment.objects.filter(user=user, role=role, area=area, revoked_at__isnull=True).exists():
            assign_role(actor=None, user=user, role=role, area=area, valid_from=CURRENT_START)
        logins.append(DemoLogin(username, full_name, str(Role(role).label), area.full_name))
    return logins
