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
    # HIV-related categories: those who decide on and pay under them, never read-only roles
    REGISTRY_VIEW_SENSITIVE = "registry.view_sensitive"
    IDENTITY_VERIFY = "identity.verify"
    PAYROLL_PREPARE = "payroll.prepare"
    PAYROLL_APPROVE = "payroll.approve"
    PAYMENTS_PROVIDE = "payments.provide"
    REPORTS_VIEW = "reports.view"
    AUDIT_VIEW = "audit.view"
    ORGS_VIEW = "orgs.view"
    USERS_MANAGE = "users.manage"
    POLICY_MANAGE = "policy.manage"
    # Lists and contact data (issue 7): who may take the beneficiary list away as a file, and
    # where phone numbers are shown in full (elsewhere masked: registry.privacy).
    REGISTRY_EXPORT = "registry.export"
    REGISTRY_VIEW_CONTACT = "registry.view_contact"
    # The notification outbox (the sandbox gateway's messages): administrators and the officers
    # who contact beneficiaries; phones in full only with users.manage or registry.view_contact.
    NOTIFICATIONS_VIEW = "notifications.view"
    # Receiving accounts (issue 9): full account numbers, elsewhere masked (payments.queries).
    PAYMENTS_VIEW_ACCOUNT = "payments.view_account"
    # A change of receiving account (and the first account of someone paid in cash) takes effect
    # only when a second user with this capability approves it with a TOTP code.
    PAYMENTS_APPROVE_ACCOUNT = "payments.approve_account"
    # Account opening with the provider (ansinh.openings): village heads and commune officers
    # collect requests; the commune confirms them, exports them and imports the results.
    OPENINGS_REQUEST = "openings.request"
    OPENINGS_MANAGE = "openings.manage"
    # Data-quality worklists (ansinh.quality): the roles that fix what they list.
    QUALITY_VIEW = "quality.view"
    # The monthly payment cycle (ansinh.payroll, issue 10): the commune submits its monthly
    # change list; the office (payroll.prepare) appraises it and the approver approves.
    PAYROLL_SUBMIT_CHANGES = "payroll.submit_changes"
    # The village head's list of notices (notifications.Channel.VILLAGE): for people who cannot
    # read an SMS in Vietnamese or have no phone. The village head (their village) and the
    # commune officer (the commune's villages) read it, print it and mark the notices delivered.
    NOTIFICATIONS_VILLAGE = "notifications.village_list"
    # Cash pay-out (ansinh.cashout, issue 12): who reads pay points and cash lists; who manages
    # pay points, routes and their days and builds the month's cash lists (the commune with the
    # provider, and the office); who records receipts and withdrawals and closes a list (the
    # provider's staff).
    CASH_VIEW = "cashout.view"
    CASH_MANAGE = "cashout.manage"
    CASH_RECORD = "cashout.record"
    # Complaints (ansinh.complaints): those who take them in and resolve them (the commune, the
    # office, the provider for those routed to it); the register's counts for readers.
    COMPLAINTS_HANDLE = "complaints.handle"
    COMPLAINTS_VIEW = "complaints.view"
    # Applications for the monthly allowance (ansinh.applications): the commune receives and
    # reviews them and posts them publicly; the decision is registry.decide (the chairperson's
    # decision recorded by the commune since 2025-07-01).
    APPLICATIONS_REVIEW = "applications.review"
    # Issue 13: ledger, reconciliation, settlement, statutory reports, monitoring dashboard.
    # Seeing a cycle's ledger, statements, reconciliation exceptions and settlements.
    RECONCILIATION_VIEW = "reconciliation.view"
    # Importing bank statements, running the reconciliation, working its exceptions (office).
    RECONCILE = "reconciliation.manage"
    # The provider's settlement statement: preparing and submitting it (provider staff).
    SETTLEMENT_SUBMIT = "settlement.submit"
    # Reviewing and accepting the provider's settlement; the office's settlement with finance.
    SETTLEMENT_ACCEPT = "settlement.accept"
    # The monitoring dashboard (province, office, commune figures and drill-down).
    MONITORING_VIEW = "monitoring.view"


_VIEW = {Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.AUDIT_VIEW, Cap.ORGS_VIEW}

# The system administrator's capabilities: administration (users, policy, organisation data,
# villages) and reading. They hold for the sysadmin role on its areas and for a superuser
# everywhere (access.is_global). Case work (registering, correcting, importing, deciding,
# verifying identity, payroll, payments) and full CCCDs are not listed: an administrator manages
# users and settings, not cases, and a capability added later is not the administrator's
# unless it is added here.
ADMINISTRATOR_CAPABILITIES: frozenset[str] = frozenset(
    _VIEW
    | {
        Cap.AREAS_MANAGE_VILLAGES,
        Cap.REGISTRY_VIEW,
        Cap.REPORTS_VIEW,
        Cap.USERS_MANAGE,
        Cap.POLICY_MANAGE,
        Cap.NOTIFICATIONS_VIEW,
    }
)

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
            Cap.REGISTRY_VIEW_SENSITIVE,
        }
    ),
    Role.VILLAGE_HEAD: frozenset({Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.REGISTRY_VIEW}),
    Role.COMMUNE_POLICE: frozenset(_VIEW | {Cap.REGISTRY_VIEW, Cap.REGISTRY_VIEW_CCCD, Cap.IDENTITY_VERIFY}),
    Role.OFFICE_OFFICER: frozenset(
        _VIEW
        | {
            Cap.REGISTRY_VIEW,
            Cap.REGISTRY_VIEW_CCCD,
            Cap.REGISTRY_VIEW_SENSITIVE,
            Cap.REGISTRY_DECIDE,
            Cap.PAYROLL_PREPARE,
            Cap.REPORTS_VIEW,
        }
    ),
    Role.APPROVER: frozenset(_VIEW | {Cap.REGISTRY_VIEW, Cap.PAYROLL_APPROVE, Cap.REPORTS_VIEW}),
    Role.PROVIDER_STAFF: frozenset({Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.PAYMENTS_PROVIDE}),
    Role.TREASURY_VIEWER: frozenset({Cap.DASHBOARD, Cap.AREAS_VIEW, Cap.REPORTS_VIEW}),
    Role.PROVINCE_MONITOR: frozenset(_VIEW | {Cap.REGISTRY_VIEW, Cap.REPORTS_VIEW}),
    Role.SYSADMIN: ADMINISTRATOR_CAPABILITIES,
}


# Exporting the list: the commune officer (who keeps it), the office officer (who prepares
# payments from it) and the province monitor (inspection lists, phones masked). Not the commune
# police or the village head, who look people up but have no need of the whole list as a file,
# nor the approver, treasury or provider, who work from payrolls. Phone numbers in full: the
# two roles that contact beneficiaries about their payments.
_LIST_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.COMMUNE_OFFICER: frozenset({Cap.REGISTRY_EXPORT, Cap.REGISTRY_VIEW_CONTACT, Cap.PAYMENTS_VIEW_ACCOUNT}),
    Role.PROVIDER_STAFF: frozenset({Cap.PAYMENTS_VIEW_ACCOUNT}),
    Role.OFFICE_OFFICER: frozenset({Cap.REGISTRY_EXPORT, Cap.REGISTRY_VIEW_CONTACT}),
    Role.PROVINCE_MONITOR: frozenset({Cap.REGISTRY_EXPORT}),
}
for _role, _caps in _LIST_CAPABILITIES.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps

# The notification outbox (ansinh.notifications): besides the administrators, the two roles
# that contact beneficiaries about their payments.
for _role in (Role.COMMUNE_OFFICER, Role.OFFICE_OFFICER):
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | {Cap.NOTIFICATIONS_VIEW}


# Issue 9: approving account changes (the checker), account opening, data-quality worklists.
ROLE_CAPABILITIES[Role.APPROVER] = ROLE_CAPABILITIES[Role.APPROVER] | {Cap.PAYMENTS_APPROVE_ACCOUNT}
ROLE_CAPABILITIES[Role.VILLAGE_HEAD] = ROLE_CAPABILITIES[Role.VILLAGE_HEAD] | {Cap.OPENINGS_REQUEST}
ROLE_CAPABILITIES[Role.COMMUNE_OFFICER] = ROLE_CAPABILITIES[Role.COMMUNE_OFFICER] | {
    Cap.OPENINGS_REQUEST,
    Cap.OPENINGS_MANAGE,
    Cap.QUALITY_VIEW,
}
ROLE_CAPABILITIES[Role.OFFICE_OFFICER] = ROLE_CAPABILITIES[Role.OFFICE_OFFICER] | {
    Cap.OPENINGS_MANAGE,
    Cap.QUALITY_VIEW,
}
for _role in (Role.COMMUNE_POLICE, Role.PROVINCE_MONITOR):
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | {Cap.QUALITY_VIEW}


# Issue 10: the commune officer submits the commune's monthly changes of a payment cycle.
ROLE_CAPABILITIES[Role.COMMUNE_OFFICER] = ROLE_CAPABILITIES[Role.COMMUNE_OFFICER] | {Cap.PAYROLL_SUBMIT_CHANGES}

# Issue 11: the village head's list of payment notices (read out, then marked delivered).
for _role in (Role.VILLAGE_HEAD, Role.COMMUNE_OFFICER):
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | {Cap.NOTIFICATIONS_VILLAGE}

# Issue 12: cash pay-out, complaints, applications.
_CASH_AND_CASEWORK: dict[str, frozenset[str]] = {
    Role.COMMUNE_OFFICER: frozenset(
        {Cap.CASH_VIEW, Cap.CASH_MANAGE, Cap.COMPLAINTS_HANDLE, Cap.COMPLAINTS_VIEW, Cap.APPLICATIONS_REVIEW}
    ),
    Role.OFFICE_OFFICER: frozenset({Cap.CASH_VIEW, Cap.CASH_MANAGE, Cap.COMPLAINTS_HANDLE, Cap.COMPLAINTS_VIEW}),
    Role.PROVIDER_STAFF: frozenset({Cap.CASH_VIEW, Cap.CASH_RECORD, Cap.COMPLAINTS_HANDLE, Cap.COMPLAINTS_VIEW}),
    Role.VILLAGE_HEAD: frozenset({Cap.CASH_VIEW}),
    Role.APPROVER: frozenset({Cap.CASH_VIEW, Cap.COMPLAINTS_VIEW}),
    Role.TREASURY_VIEWER: frozenset({Cap.CASH_VIEW}),
    Role.PROVINCE_MONITOR: frozenset({Cap.CASH_VIEW, Cap.COMPLAINTS_VIEW}),
}
for _role, _caps in _CASH_AND_CASEWORK.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps


# Issue 13: who works the month's closing.
_CLOSING: dict[str, frozenset[str]] = {
    Role.COMMUNE_OFFICER: frozenset({Cap.RECONCILIATION_VIEW, Cap.MONITORING_VIEW}),
    Role.OFFICE_OFFICER: frozenset(
        {Cap.RECONCILIATION_VIEW, Cap.RECONCILE, Cap.SETTLEMENT_ACCEPT, Cap.MONITORING_VIEW}
    ),
    Role.APPROVER: frozenset({Cap.RECONCILIATION_VIEW, Cap.MONITORING_VIEW}),
    Role.PROVIDER_STAFF: frozenset({Cap.RECONCILIATION_VIEW, Cap.SETTLEMENT_SUBMIT}),
    Role.TREASURY_VIEWER: frozenset({Cap.RECONCILIATION_VIEW, Cap.MONITORING_VIEW}),
    Role.PROVINCE_MONITOR: frozenset({Cap.RECONCILIATION_VIEW, Cap.MONITORING_VIEW}),
}
for _role, _caps in _CLOSING.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps


def capabilities_of(role: str) -> frozenset[str]:
    return ROLE_CAPABILITIES.get(role, frozenset())
