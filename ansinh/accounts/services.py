"""Writes to users, groups, role assignments, organisation units, responsibilities and API
tokens. Every one audited, with before/after for changes. The administration, the commands and
the demo all write through here.

Rules kept here (and nowhere else):
- privileges (staff, superuser, groups, permissions) and superusers themselves are changed only
  by a superuser or by the system (`actor=None`);
- a role assignment keeps its user, role and area: it is revoked, never rewritten or deleted;
- a responsibility that has been in force is ended, not deleted;
- a user, unit or group that anything still refers to is not deleted (deactivate it instead)."""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.areas.models import Area
from ansinh.audit.services import diff, record, snapshot
from ansinh.core.references import referenced_by

from . import access
from .models import ApiToken, Function, OrgKind, OrgUnit, Responsibility, RoleAssignment, User, hash_token

# The user fields the administration edits; the password has its own service.
USER_FIELDS = ("username", "full_name", "email", "phone", "is_active", "is_staff", "is_superuser")
PRIVILEGES = ("is_staff", "is_superuser", "groups", "user_permissions")
ORG_UNIT_FIELDS = ["kind", "name", "short_name", "area", "active"]
RESPONSIBILITY_FIELDS = ["org_unit", "area", "function", "valid_from", "valid_to"]


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()  # "leave this value as it is" for optional arguments of the change services


def _is_superuser(actor) -> bool:
    return actor is None or bool(getattr(actor, "is_superuser", False) and actor.is_active)


def _refuse_if_referenced(obj, message: str) -> None:
    refs = referenced_by(obj)
    if refs:
        raise ValidationError(message % {"obj": obj, "refs": ", ".join(refs)}, code="referenced")


# --- users -------------------------------------------------------------------------------------


def user_state(user: User) -> dict:
    state = snapshot(user, list(USER_FIELDS))
    state["groups"] = sorted(user.groups.values_list("name", flat=True))
    state["user_permissions"] = sorted(user.user_permissions.values_list("codename", flat=True))
    return state


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
def update_user(
    *,
    actor,
    user: User,
    changes: dict[str, Any],
    groups: Iterable[Group] | None = None,
    user_permissions: Iterable[Permission] | None = None,
) -> User:
    """Change a user's fields (`USER_FIELDS`) and, when given, their groups and permissions.
    One `accounts.user.changed` event with the changed values only; none when nothing changed.
    Privileges, and anything about a superuser, only by a superuser (PermissionDenied)."""
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"not a user field this service changes: {sorted(unknown)}")
    current = User.objects.select_for_update().get(pk=user.pk)
    before = user_state(current)
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean(exclude=["password"])
    wanted = dict(before)
    wanted.update(snapshot(current, list(USER_FIELDS)))
    if groups is not None:
        groups = list(groups)
        wanted["groups"] = sorted(g.name for g in groups)
    if user_permissions is not None:
        user_permissions = list(user_permissions)
        wanted["user_permissions"] = sorted(p.codename for p in user_permissions)
    old, new = diff(before, wanted)
    if not new and not old:
        return current
    if not _is_superuser(actor) and (before["is_superuser"] or set(new) & set(PRIVILEGES)):
        raise PermissionDenied(_("Only a superuser may change privileges or a superuser."))
    current.save()
    if groups is not None:
        current.groups.set(groups)
    if user_permissions is not None:
        current.user_permissions.set(user_permissions)
    access.forget(user)
    record(actor=actor, action="accounts.user.changed", obj=current, before=old, after=new)
    return current


@transaction.atomic
def set_user_password(*, actor, user: User, password: str | None) -> User:
    """Set a new password, or disable password login with None. The event says only whether
    login by password is possible."""
    current = User.objects.select_for_update().get(pk=user.pk)
    if current.is_superuser and not _is_superuser(actor):
        raise PermissionDenied(_("Only a superuser may change privileges or a superuser."))
    if password:
        current.set_password(password)
    else:
        current.set_unusable_password()
    current.save(update_fields=["password"])
    user.password = current.password
    record(
        actor=actor,
        action="accounts.user.password_changed",
        obj=current,
        after={"login_enabled": current.has_usable_password()},
    )
    return current


def user_deletion_blockers(user: User) -> list[str]:
    return referenced_by(user)


@transaction.atomic
def delete_user(*, actor, user: User) -> None:
    """Delete a user nothing refers to (e.g. created by mistake). A user who held a role, had a
    token or acted is deactivated instead (ValidationError)."""
    if user.is_superuser and not _is_superuser(actor):
        raise PermissionDenied(_("Only a superuser may change privileges or a superuser."))
    _refuse_if_referenced(
        user, _("%(obj)s cannot be deleted: %(refs)s refer to this user. Deactivate the user instead.")
    )
    record(actor=actor, action="accounts.user.deleted", obj=user, before=user_state(user))
    user.delete()


# --- groups (permissions for the administration) ---------------------------------------------


def _group_state(group: Group, permissions: Iterable[Permission] | None = None) -> dict:
    perms = group.permissions.select_related("content_type") if permissions is None else permissions
    return {
        "name": group.name,
        "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms),
    }


@transaction.atomic
def save_group(*, actor, group: Group, permissions: Iterable[Permission]) -> Group:
    """Create a group, or change its name and permissions (only a superuser: permissions are
    privileges)."""
    if not _is_superuser(actor):
        raise PermissionDenied(_("Only a superuser may change privileges or a superuser."))
    permissions = list(permissions)
    creating = group.pk is None
    before = {} if creating else _group_state(Group.objects.select_for_update().get(pk=group.pk))
    group.full_clean()
    group.save()
    group.permissions.set(permissions)
    old, new = diff(before, _group_state(group, permissions))
    if creating:
        record(actor=actor, action="accounts.group.created", obj=group, after=new)
    elif old or new:
        record(actor=actor, action="accounts.group.changed", obj=group, before=old, after=new)
    return group


@transaction.atomic
def delete_group(*, actor, group: Group) -> None:
    if not _is_superuser(actor):
        raise PermissionDenied(_("Only a superuser may change privileges or a superuser."))
    _refuse_if_referenced(group, _("%(obj)s cannot be deleted: %(refs)s refer to it."))
    record(actor=actor, action="accounts.group.deleted", obj=group, before=_group_state(group))
    group.delete()


# --- role assignments --------------------------------------------------------------------------


def assignment_state(assignment: RoleAssignment) -> dict:
    return {
        "user": assignment.user.username,
        "role": assignment.role,
        "area": assignment.area.code or assignment.area.name,
        "org_unit": assignment.org_unit_id,
        "valid_from": assignment.valid_from,
        "valid_to": assignment.valid_to,
    }


@transaction.atomic
def assign_role(
    *,
    actor,
    user: User,
    role: str,
    area: Area,
    org_unit: OrgUnit | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> RoleAssignment:
    existing = RoleAssignment.objects.filter(user=user, role=role, area=area, revoked_at__isnull=True).first()
    if existing:
        return existing
    assignment = RoleAssignment(
        user=user, role=role, area=area, org_unit=org_unit, valid_from=valid_from, valid_to=valid_to
    )
    assignment.full_clean()
    assignment.save()
    access.forget(user)
    record(
        actor=actor,
        action="accounts.role.assigned",
        obj=assignment,
        area=area,
        after=assignment_state(assignment),
    )
    return assignment


def check_assignment_change(assignment: RoleAssignment, *, role: str, area: Area | None) -> None:
    """An assignment keeps its role and area: another role or area is a new assignment (and
    this one is revoked), so that the history says who could do what, where, when."""
    if role != assignment.role or (area is not None and area.pk != assignment.area_id):
        raise ValidationError(
            _("The role and area of an assignment do not change: revoke it and assign the new one."),
            code="assignment_fixed",
        )


@transaction.atomic
def change_role_assignment(
    *,
    actor,
    assignment: RoleAssignment,
    role: str,
    area: Area,
    org_unit: OrgUnit | None = KEEP,
    valid_from: date | None = KEEP,
    valid_to: date | None = KEEP,
) -> RoleAssignment:
    """Change the unit or validity of an active assignment (`accounts.role.changed`)."""
    current = RoleAssignment.objects.select_for_update().select_related("user", "area").get(pk=assignment.pk)
    check_assignment_change(current, role=role, area=area)
    if current.revoked_at is not None:
        raise ValidationError(_("A revoked assignment does not change."), code="revoked")
    before = assignment_state(current)
    for name, value in (("org_unit", org_unit), ("valid_from", valid_from), ("valid_to", valid_to)):
        if value is not KEEP:
            setattr(current, name, value)
    current.full_clean()
    old, new = diff(before, assignment_state(current))
    if old or new:
        current.save()
        access.forget(current.user)
        record(actor=actor, action="accounts.role.changed", obj=current, area=current.area, before=old, after=new)
    return current


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


# --- organisation units and responsibilities ---------------------------------------------------


@transaction.atomic
def create_org_unit(*, actor, kind: str, name: str, area: Area, short_name: str = "", active: bool = True) -> OrgUnit:
    unit, created = OrgUnit.objects.get_or_create(
        kind=kind, name=name, area=area, defaults={"short_name": short_name, "active": active}
    )
    if created:
        record(actor=actor, action="accounts.orgunit.created", obj=unit, area=area, after=snapshot(unit))
    return unit


@transaction.atomic
def change_org_unit(
    *, actor, unit: OrgUnit, kind: str, name: str, short_name: str, area: Area, active: bool
) -> OrgUnit:
    current = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    before = snapshot(current, ORG_UNIT_FIELDS)
    current.kind, current.name, current.short_name, current.area, current.active = kind, name, short_name, area, active
    current.full_clean()
    old, new = diff(before, snapshot(current, ORG_UNIT_FIELDS))
    if old or new:
        current.save()
        record(actor=actor, action="accounts.orgunit.changed", obj=current, area=area, before=old, after=new)
    return current


@transaction.atomic
def delete_org_unit(*, actor, unit: OrgUnit) -> None:
    """Delete a unit nothing refers to; one that carried responsibilities or roles is set
    inactive instead (ValidationError)."""
    _refuse_if_referenced(unit, _("%(obj)s cannot be deleted: %(refs)s refer to this unit. Set it inactive instead."))
    record(actor=actor, action="accounts.orgunit.deleted", obj=unit, area=unit.area, before=snapshot(unit))
    unit.delete()


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


@transaction.atomic
def change_responsibility(
    *,
    actor,
    responsibility: Responsibility,
    area: Area,
    function: str,
    valid_from: date | None = KEEP,
    valid_to: date | None = KEEP,
) -> Responsibility:
    current = Responsibility.objects.select_for_update().get(pk=responsibility.pk)
    before = snapshot(current, RESPONSIBILITY_FIELDS)
    current.area, current.function = area, function
    if valid_from is not KEEP:
        current.valid_from = valid_from
    if valid_to is not KEEP:
        current.valid_to = valid_to
    _check_period(current.valid_from, current.valid_to)
    current.full_clean()
    old, new = diff(before, snapshot(current, RESPONSIBILITY_FIELDS))
    if old or new:
        current.save()
        record(actor=actor, action="accounts.responsibility.changed", obj=current, area=area, before=old, after=new)
    return current


def _check_period(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationError({"valid_to": _("The end date must not be before the start date.")})


@transaction.atomic
def end_responsibility(*, actor, responsibility: Responsibility, on: date | None = None) -> Responsibility | None:
    """End a responsibility: it no longer holds from `on` (default today), so its last day is
    the day before (`accounts.responsibility.ended`). One that never came into force by then is
    removed (`accounts.responsibility.deleted`; returns None)."""
    day = on or timezone.localdate()
    current = Responsibility.objects.select_for_update().get(pk=responsibility.pk)
    if current.valid_from is not None and current.valid_from >= day:
        record(
            actor=actor,
            action="accounts.responsibility.deleted",
            obj=current,
            area=current.area,
            before=snapshot(current),
        )
        current.delete()
        return None
    last_day = day - timedelta(days=1)
    if current.valid_to is None or current.valid_to > last_day:
        before = {"valid_to": current.valid_to}
        current.valid_to = last_day
        current.save(update_fields=["valid_to"])
        record(
            actor=actor,
            action="accounts.responsibility.ended",
            obj=current,
            area=current.area,
            before=before,
            after={"valid_to": last_day},
        )
    return current


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


# --- API tokens --------------------------------------------------------------------------------


def default_token_days() -> int:
    return int(settings.ANSINH_API_TOKEN_DAYS)


@transaction.atomic
def create_api_token(*, actor, user: User, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """Returns the token row and the raw value, which is shown once and never stored. The token
    expires after `days` (default `settings.ANSINH_API_TOKEN_DAYS`); there are no tokens
    without an end."""
    days = default_token_days() if days is None else days
    if days < 1:
        raise ValidationError(_("A token lasts at least one day."), code="days")
    raw = ApiToken.generate_raw()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_prefix=raw[:12],
        key_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    record(
        actor=actor,
        action="accounts.api_token.created",
        obj=token,
        after={"user": user.username, "name": name, "expires_at": token.expires_at},
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
    "KEEP",
    "Function",
    "OrgKind",
    "assign_responsibility",
    "assign_role",
    "change_org_unit",
    "change_responsibility",
    "change_role_assignment",
    "check_assignment_change",
    "create_api_token",
    "create_org_unit",
    "create_user",
    "delete_group",
    "delete_org_unit",
    "delete_user",
    "end_responsibility",
    "responsible_unit",
    "revoke_api_token",
    "revoke_role",
    "save_group",
    "set_user_password",
    "update_user",
]
