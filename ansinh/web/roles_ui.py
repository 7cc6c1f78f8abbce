"""What each role does, in words for the dashboard. Later modules add their links here
(url names) as their pages appear; a link is shown only when the user holds its capability.
The registry's figures are on the dashboard already (`registry.stats`); what a role will see
once the payment modules exist is listed under an honest note, never as a link to nothing."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from ansinh.accounts.roles import Cap, Role


@dataclass(frozen=True)
class RoleGuide:
    duties: list
    # (label, url name, capability) for pages that exist today.
    links: list = field(default_factory=list)
    # What will appear on the card once the modules being built record it, under `coming_note`.
    coming: list = field(default_factory=list)
    coming_note: str = _("The payment part is being built. When it is ready, this card will also show:")


_AREAS = (_("My areas"), "areas:list", Cap.AREAS_VIEW)
_ORGS = (_("Organisations"), "orgs:list", Cap.ORGS_VIEW)
_AUDIT = (_("Audit log"), "audit:list", Cap.AUDIT_VIEW)
_REGISTRY = (_("Beneficiaries"), "registry:list", Cap.REGISTRY_VIEW)

GUIDES: dict[str, RoleGuide] = {
    Role.COMMUNE_OFFICER: RoleGuide(
        duties=[
            _("Register beneficiaries, guardians and authorised persons."),
            _("Record each person's payment method and receiving account."),
            _("Send the monthly change list (new, stopped, adjusted) by day 2."),
            _("Keep the list of villages of the commune up to date."),
        ],
        links=[_REGISTRY, _AREAS, _ORGS, _AUDIT],
        coming=[_("With a receiving account"), _("Changes waiting to be sent")],
    ),
    Role.VILLAGE_HEAD: RoleGuide(
        duties=[
            _("Collect account details door to door."),
            _("Check the list of beneficiaries of your village."),
        ],
        links=[_REGISTRY, _AREAS],
        coming=[_("Without a receiving account")],
    ),
    Role.COMMUNE_POLICE: RoleGuide(
        duties=[
            _("Verify identity data (citizen ID, date of birth, gender)."),
            _("Check them against the national population database."),
        ],
        links=[_REGISTRY, _AREAS, _AUDIT],
        coming=[_("Records waiting for verification")],
        coming_note=_("Identity verification is being built. When it is ready, this card will also show:"),
    ),
    Role.OFFICE_OFFICER: RoleGuide(
        duties=[
            _("Appraise the communes' change lists."),
            _("Prepare the monthly payroll and the funding request by day 4."),
            _("Send the approved payroll to the payment provider."),
        ],
        links=[_REGISTRY, _AREAS, _ORGS, _AUDIT],
        coming=[_("Change lists to appraise"), _("Payroll of the month")],
    ),
    Role.APPROVER: RoleGuide(
        duties=[_("Check and approve the monthly payroll prepared by the office.")],
        links=[_REGISTRY, _AREAS, _ORGS, _AUDIT],
        coming=[_("Payrolls waiting for approval")],
    ),
    Role.PROVIDER_STAFF: RoleGuide(
        duties=[
            _("Open receiving accounts for beneficiaries."),
            _("Transfer allowances by day 8, send SMS, pay cash at pay points and at home."),
            _("Record the results and settle with the office by day 20."),
        ],
        links=[_AREAS],
        coming=[_("Transfers of the month"), _("Cash payments to make")],
    ),
    Role.TREASURY_VIEWER: RoleGuide(
        duties=[_("Follow the funding requests and the monthly settlement.")],
        links=[_AREAS],
        coming=[_("Funding requests"), _("Settlements")],
    ),
    Role.PROVINCE_MONITOR: RoleGuide(
        duties=[
            _("Monitor every area below yours: account opening, cashless payment, overdue communes."),
            _("Prepare the reports to the province and the ministry."),
        ],
        links=[_REGISTRY, _AREAS, _ORGS, _AUDIT],
        coming=[_("Share of beneficiaries with an account"), _("Share of account holders paid cashless")],
    ),
    Role.SYSADMIN: RoleGuide(
        duties=[
            _("Manage users and their role assignments."),
            _("Manage organisation units and which unit is responsible for each area."),
            _("Keep policy data (standard levels, coefficients) up to date."),
        ],
        links=[_AREAS, _ORGS, _AUDIT],
    ),
}


@dataclass
class HeldRole:
    role: str
    label: str
    areas: list
    guide: RoleGuide | None = None
    links: list = field(default_factory=list)


def roles_held(request) -> list[HeldRole]:
    """The user's active roles, each with the areas where it is held, in the order of `Role`.
    One query, cached on the request (the header and the dashboard both use it)."""
    cached = getattr(request, "_ansinh_roles_held", None)
    if cached is not None:
        return cached
    from ansinh.accounts.models import RoleAssignment

    assignments = (
        RoleAssignment.objects.active().filter(user=request.user).select_related("area").order_by("area__path")
    )
    by_role: dict[str, list] = {}
    for assignment in assignments:
        by_role.setdefault(assignment.role, []).append(assignment.area)
    held = [HeldRole(role.value, role.label, by_role[role.value]) for role in Role if role.value in by_role]
    request._ansinh_roles_held = held
    return held


def dashboard_cards(request, caps: set[str]) -> list[HeldRole]:
    from django.urls import reverse

    cards = []
    for held in roles_held(request):
        guide = GUIDES.get(held.role)
        links = [(label, reverse(url_name)) for label, url_name, cap in (guide.links if guide else []) if cap in caps]
        cards.append(HeldRole(held.role, held.label, held.areas, guide, links))
    return cards
