"""Demo organisations and one user per role for An Giang province (pre-2025 tree), as in the
source documents: the pilot ran in Châu Đốc city (884) and Tịnh Biên town (890).
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
from ansinh.areas.models import Area, Level, Tree

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


def _first_commune(district: Area) -> Area:
    return Area.objects.filter(parent=district, level=Level.COMMUNE).order_by("code").first()


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


def demo_users() -> list[tuple[str, str, str, str]]:
    """(username, full name, role, area code or 'village:<commune code>') — one user per role,
    plus an officer of a Tịnh Biên commune to show that areas are separated."""
    chau_doc, tinh_bien = _legacy("884"), _legacy("890")
    c1, c2 = _first_commune(chau_doc), _first_commune(tinh_bien)
    return [
        ("canbo.xa", "Lê Thị Thu Hà", Role.COMMUNE_OFFICER, c1.code),
        ("truong.khom", "Nguyễn Văn Phúc", Role.VILLAGE_HEAD, f"village:{c1.code}"),
        ("congan.xa", "Trần Quốc Bảo", Role.COMMUNE_POLICE, c1.code),
        ("canbo.phong", "Phạm Thị Ngọc Lan", Role.OFFICE_OFFICER, chau_doc.code),
        ("lanhdao.phong", "Võ Minh Tâm", Role.APPROVER, chau_doc.code),
        ("buudien", "Huỳnh Thị Kim Yến", Role.PROVIDER_STAFF, chau_doc.code),
        ("khobac", "Đặng Văn Hùng", Role.TREASURY_VIEWER, chau_doc.code),
        ("so.tinh", "Châu Thị Mỹ Linh", Role.PROVINCE_MONITOR, PROVINCE_CODE),
        ("quantri", "Quản trị hệ thống", Role.SYSADMIN, PROVINCE_CODE),
        ("canbo.tinhbien", "Néang Sa Rươne", Role.COMMUNE_OFFICER, c2.code),
    ]


@transaction.atomic
def load_users() -> list[DemoLogin]:
    logins = []
    for username, full_name, role, where in demo_users():
        if where.startswith("village:"):
            commune = Area.objects.get(tree=Tree.LEGACY, code=where.split(":", 1)[1])
            area = Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key").first() or commune
        else:
            area = _legacy(where)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_user(actor=None, username=username, full_name=full_name, password=DEMO_PASSWORD)
        if role == Role.SYSADMIN:  # audited (accounts.user.changed) the first time only
            user = update_user(actor=None, user=user, changes={"is_staff": True, "is_superuser": True})
        if not RoleAssignment.objects.filter(user=user, role=role, area=area, revoked_at__isnull=True).exists():
            assign_role(actor=None, user=user, role=role, area=area)
        logins.append(DemoLogin(username, full_name, Role(role).label, area.full_name))
    return logins
