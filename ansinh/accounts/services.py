"""Writes to users, role assignments, organisation units and API tokens. Every one audited."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from ansinh.areas.models import Area
from ansinh.audit.services import record, snapshot

from . import access
from .models import ApiToken, Function, OrgKind, OrgUnit, Responsibility, RoleAssignment, User, hash_token


@transaction.atomic
def create_user(
    *,
    actor,
    username: str,
    full_name: str = "",
    password: str | None = None,
    email: str = "",
    phone: str = "",
) -> User:
    user = User(username=username, full_name=full_name, email=email, phone=phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    record(
        actor=actor,
        action="accounts.user.created",
        obj=user,
        after=snapshot(user, ["username", "full_name", "email"]),
    )
    return user


@transaction.atomic
def assign_role(
    *,
    actor,
    user: User,
    role: str,
    area: Area,
    org_unit: OrgUnit | None = None,
    valid_from: date | None = None,
) -> RoleAssignment:
    existing = RoleAssignment.objects.filter(user=user, role=role, area=area, revoked_at__isnull=True).first()
    if existing:
        return existing
    assignment = RoleAssignment.objects.create(
        user=user, role=role, area=area, org_unit=org_unit, valid_from=valid_from
    )
    access.forget(user)
    record(
        actor=actor,
        action="accounts.role.assigned",
        obj=assignment,
        area=area,
        after={"user": user.username, "role": role, "area": area.code or area.name},
    )
    return assignment


@transaction.atomic
def revoke_role(*, actor, assignment: RoleAssignment) -> RoleAssignment:
    if assignment.revoked_at is None:
        assignment.revoked_at = timezone.now()
        assignment.save(update_fields=["revoked_at"])
        access.forget(assignment.user)
        record(
            actor=actor,
            action="accounts.role.revoked",
            obj=assignment,
            area=assignment.area,
            before={"user": assignment.user.username, "role": assignment.role},
        )
    return assignment


@transaction.atomic
def create_org_unit(*, actor, kind: str, name: str, area: Area, short_name: str = "") -> OrgUnit:
    unit, created = OrgUnit.objects.get_or_create(kind=kind, name=name, area=area, defaults={"short_name": short_name})
    if created:
        record(actor=actor, action="accounts.orgunit.created", obj=unit, area=area, after=snapshot(unit))
    return unit


@transaction.atomic
def assign_responsibility(
    *,
    actor,
    org_unit: OrgUnit,
    area: Area,
    function: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Responsibility:
    resp, created = Responsibility.objects.get_or_create(
        org_unit=org_unit,
        area=area,
        function=function,
        valid_from=valid_from,
        defaults={"valid_to": valid_to},
    )
    if created:
        record(actor=actor, action="accounts.responsibility.assigned", obj=resp, area=area, after=snapshot(resp))
    return resp


def responsible_unit(*, area: Area, function: str, on: date | None = None) -> OrgUnit | None:
    """The unit performing `function` for `area` on a day: the assignment on the nearest
    ancestor (the area itself first) that is valid that day."""
    day = on or timezone.localdate()
    candidates = Responsibility.objects.filter(
        area_id__in=area.ancestor_ids(), function=function, org_unit__active=True
    ).select_related("org_unit", "area")
    best = None
    for resp in candidates:
        if resp.valid_from and resp.valid_from > day or resp.valid_to and resp.valid_to < day:
            continue
        if best is None or resp.area.depth > best.area.depth:
            best = resp
    return best.org_unit if best else None


@transaction.atomic
def create_api_token(*, actor, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the token row and the raw value, which is shown once and never stored."""
    raw = ApiToken.generate_raw()
    token = ApiToken.objects.create(user=user, name=name, key_prefix=raw[:12], key_hash=hash_token(raw))
    record(
        actor=actor,
        action="accounts.api_token.created",
        obj=token,
        after={"user": user.username, "name": name},
    )
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor=actor, action="accounts.api_token.revoked", obj=token, before={"user": token.user.username})
    return token


__all__ = [
    "Function",
    "OrgKind",
    "assign_responsibility",
    "assign_role",
    "create_api_token",
    "create_org_unit",
    "create_user",
    "responsible_unit",
    "revoke_api_token",
    "revoke_role",
]
