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
    NavItem("orgs", _("Organisations"), "orgs:list", Cap.ORGS_VIEW),
    NavItem("audit", _("Audit log"), "audit:list", Cap.AUDIT_VIEW),
    NavItem("notifications", _("Notifications"), "notifications:list", Cap.NOTIFICATIONS_VIEW),
]


def menu_for(user) -> list[NavItem]:
    caps = access.capabilities(user)
    return [item for item in ITEMS if item.cap in caps or caps.intersection(item.also)]
