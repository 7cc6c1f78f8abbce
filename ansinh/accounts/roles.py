"""Roles and what each may do. A user holds roles on areas (RoleAssignment); a capability
is granted on the areas where the user holds a role that carries it, and everything below."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMUNE_OFFICER = "commune_officer", _("Commune social-affairs officer")
    VILLAGE_HEAD = "village_head", _("Village head")
    COMMUNE_POLICE = "commune_police", _("Commune police (identity verification)")
    OFFICE_OFFICER = "office_officer", _("Office officer (preparer)")
    APPROVER = "approver", _("Approver (checker)")
    PROVIDER_STAFF = "provider_staff", _("Payment provider staff")
    TREASURY_VIEWER = "treasury_viewer", _("Treasury / finance viewer")
    PROVINCE_MONITOR = "province_monitor", _("Province monitor")
    SYSADMIN = "sysadmin", _("System administrator")


class Cap:
    """Capability names. Plain strings so services and templates can name them."""

    DASHBOARD = "dashboard.view"
    AREAS_VIEW = "areas.view"
    AREAS_MANAGE_VILLAGES = "areas.manage_villages"
    REGISTRY_VIEW = "registry.view"
    REGISTRY_EDIT = "registry.edit"
    REGISTRY_IMPORT = "registry.import"
    REGISTRY_DECIDE = "registry.decide"
    REGISTRY_VIEW_CCCD = "registry.view_cccd"
    IDENTITY_VERIFY = "identity.verify"
    PAYROLL_PREPARE = "payroll.prepare"
    PAYROLL_APPROVE = "payroll.approve"
    PAYMENTS_PROVIDE = "payments.provide"
    REPORTS_VIEW = "reports.view"
    AUDIT_VIEW = "audit.view"
    ORGS_VIEW = "orgs.view"
    USERS_MANAGE = "users.manage"
    POLICY_MANAGE = "policy.manage"


_VIEW = {Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.AUDIT_VIEW, Cap.ORGS_VIEW}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.COMMUNE_OFFICER: frozenset(
        _VIEW
        | {
            Cap.AREAS_MANAGE_VILLAGES,
            Cap.REGISTRY_VIEW,
            Cap.REGISTRY_EDIT,
            Cap.REGISTRY_IMPORT,
            Cap.REGISTRY_DECIDE,
            Cap.REGISTRY_VIEW_CCCD,
        }
    ),
    Role.VILLAGE_HEAD: frozenset({Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.REGISTRY_VIEW}),
    Role.COMMUNE_POLICE: frozenset(_VIEW | {Cap.REGISTRY_VIEW, Cap.REGISTRY_VIEW_CCCD, Cap.IDENTITY_VERIFY}),
    Role.OFFICE_OFFICER: frozenset(
        _VIEW
        | {
            Cap.REGISTRY_VIEW,
            Cap.REGISTRY_VIEW_CCCD,
            Cap.REGISTRY_DECIDE,
            Cap.PAYROLL_PREPARE,
            Cap.REPORTS_VIEW,
        }
    ),
    Role.APPROVER: frozenset(_VIEW | {Cap.REGISTRY_VIEW, Cap.PAYROLL_APPROVE, Cap.REPORTS_VIEW}),
    Role.PROVIDER_STAFF: frozenset({Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.PAYMENTS_PROVIDE}),
    Role.TREASURY_VIEWER: frozenset({Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.REPORTS_VIEW}),
    Role.PROVINCE_MONITOR: frozenset(_VIEW | {Cap.REGISTRY_VIEW, Cap.REPORTS_VIEW}),
    Role.SYSADMIN: frozenset(
        _VIEW
        | {
            Cap.AREAS_MANAGE_VILLAGES,
            Cap.REGISTRY_VIEW,
            Cap.REPORTS_VIEW,
            Cap.USERS_MANAGE,
            Cap.POLICY_MANAGE,
        }
    ),
}


def capabilities_of(role: str) -> frozenset[str]:
    return ROLE_CAPABILITIES.get(role, frozenset())
