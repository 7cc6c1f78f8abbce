"""The menu a user sees, from the capabilities their roles carry."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    cap: str
    also: tuple[str, ...] = ()  # other capabilities that show the item
    # the pages (view names) where the item is the current one; empty: every page of its namespace
    pages: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return reverse(self.url_name)


ITEMS = [
    NavItem("dashboard", _("Dashboard"), "dashboard", Cap.DASHBOARD),
    NavItem("areas", _("Areas"), "areas:list", Cap.AREAS_VIEW),
    NavItem("registry", _("Beneficiaries"), "registry:list", Cap.REGISTRY_VIEW),
    NavItem("imports", _("Import"), "imports:index", Cap.REGISTRY_IMPORT),
    NavItem(
        "verification", _("Identity verification"), "verification:list", Cap.IDENTITY_VERIFY, (Cap.REGISTRY_DECIDE,)
    ),
    NavItem(
        "payroll",
        _("Payment cycles"),
        "payroll:cycles",
        Cap.PAYROLL_PREPARE,
        (Cap.PAYROLL_SUBMIT_CHANGES, Cap.PAYROLL_APPROVE, Cap.PAYMENTS_PROVIDE, Cap.REPORTS_VIEW),
    ),
    # cash pay-out: the month's cash lists, pay points, home-delivery routes and their coverage
    NavItem("cashout", _("Cash pay-out"), "cashout:cycles", Cap.CASH_VIEW),
    NavItem(
        "reconciliation",
        _("Reconciliation"),
        "reconciliation:exceptions",
        Cap.RECONCILIATION_VIEW,
        # not the settlement pages of the same namespace (their own item below)
        pages=(
            "reconciliation:exceptions",
            "reconciliation:exception",
            "reconciliation:statements",
            "reconciliation:statement",
            "reconciliation:cycle",
            "reconciliation:ledger",
        ),
    ),
    # provider and office settlement, monthly lists (issue 13 parts 3 and 4)
    NavItem(
        "settlement",
        _("Settlement"),
        "reconciliation:settlements",
        Cap.RECONCILIATION_VIEW,
        pages=("reconciliation:settlements", "reconciliation:settlement", "reconciliation:settlement_lists"),
    ),
    # account coverage and the registration lists: the roles that keep or report on the lists
    NavItem("coverage", _("Account coverage"), "coverage:index", Cap.REGISTRY_EXPORT),
    NavItem("worklists", _("Worklists"), "worklists", Cap.QUALITY_VIEW),
    # the monitoring dashboard (issue 13): province, office and commune figures, drill-down
    NavItem("monitoring", _("Monitoring"), "monitoring:home", Cap.MONITORING_VIEW),
    NavItem("orgs", _("Organisations"), "orgs:list", Cap.ORGS_VIEW),
    NavItem("audit", _("Audit log"), "audit:list", Cap.AUDIT_VIEW),
    NavItem("lookup_log", _("Public status lookups"), "lookup:log", Cap.AUDIT_VIEW),
    NavItem(
        "notifications", _("Notifications"), "notifications:list", Cap.NOTIFICATIONS_VIEW, pages=("notifications:list",)
    ),
    NavItem(
        "village_list",
        _("Village head's list"),
        "notifications:village_list",
        Cap.NOTIFICATIONS_VILLAGE,
        pages=("notifications:village_list", "notifications:village_print"),
    ),
    NavItem("account_changes", _("Account approvals"), "account_changes:list", Cap.PAYMENTS_APPROVE_ACCOUNT),
    NavItem("complaints", _("Complaints"), "complaints:register", Cap.COMPLAINTS_VIEW),
    NavItem(
        "openings",
        _("Account opening"),
        "openings:start",
        Cap.OPENINGS_REQUEST,
        pages=("openings:start", "openings:request_form"),
    ),
    NavItem(
        "opening_batches",
        _("Opening batches"),
        "openings:batches",
        Cap.OPENINGS_MANAGE,
        pages=("openings:batches", "openings:requests", "openings:figures", "openings:results"),
    ),
    # applications for the monthly allowance: the commune that reviews them, those who decide them
    NavItem("applications", _("Applications"), "applications:list", Cap.APPLICATIONS_REVIEW, (Cap.REGISTRY_DECIDE,)),
    # the statutory tables (Biểu 01/02/03)
    NavItem("reports", _("Statutory reports"), "reports:index", Cap.REPORTS_VIEW),
]


def menu_for(user) -> list[NavItem]:
    caps = access.capabilities(user)
    return [item for item in ITEMS if item.cap in caps or caps.intersection(item.also)]
