"""Reads of applications: the staff's, scoped to their areas, and the public site's (the posting
list of a commune, one application's status with its proof)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import reduce
from operator import or_

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level, Tree
from ansinh.registry.queries import sensitive_visible

from .models import Application, State

# who reads applications: the commune that reviews them, those who decide them, and the readers
# of the registry of the area (read-only; HIV-related categories masked without view_sensitive)
CAPS = (Cap.APPLICATIONS_REVIEW, Cap.REGISTRY_DECIDE, Cap.REGISTRY_VIEW)


def may_see(user) -> bool:
    return any(access.has_cap(user, cap) for cap in CAPS)


def applications_for(user) -> QuerySet[Application]:
    """The applications in the areas where the user reviews, decides or reads the registry."""
    qs = Application.objects.select_related("commune", "village", "category")
    qs_filters = []
    for cap in CAPS:
        q = access.area_q(user, cap, path_field="area_path")
        if q is None:
            return qs
        qs_filters.append(q)
    return qs.filter(reduce(or_, qs_filters))


def counts_by_state(qs: QuerySet[Application]) -> dict[str, int]:
    rows = qs.order_by().values("state").annotate(n=Count("id"))
    found = {r["state"]: r["n"] for r in rows}
    return {state: found.get(state, 0) for state in State.values}


def neutral_category() -> str:
    return _("Social assistance beneficiary")


def category_shower(user) -> Callable[[Application], str]:
    """The claimed category's name as `user` may see it: HIV-related categories only with
    registry.view_sensitive in the application's area, a neutral text otherwise."""
    show = sensitive_visible(user)

    def label(app: Application) -> str:
        if app.category.sensitive and not show(app.area_path):
            return neutral_category()
        return entitlement_label(app)

    return label


def entitlement_label(app: Application) -> str:
    from ansinh.policy.labels import condition_label, fixed_key_label

    name = app.category.name
    if app.condition:
        return f"{name} ({condition_label(app.condition)})"
    if app.fixed_key:
        return f"{name} ({fixed_key_label(app.fixed_key)})"
    return name


def public_category_name(app: Application) -> str:
    """The claimed category on the public posting: never an HIV-related one."""
    return neutral_category() if app.category.sensitive else app.category.name


# --- the public site ---------------------------------------------------------------------------------


def posting_commune(code: str) -> Area | None:
    """A commune by its official code, valid today (the current tree first)."""
    today = timezone.localdate()
    found = list(Area.objects.filter(level=Level.COMMUNE, code=code).valid_on(today))
    found.sort(key=lambda a: a.tree != Tree.CURRENT)
    return found[0] if found else None


def posted_in(commune: Area) -> QuerySet[Application]:
    """The applications of a commune in their public posting period today."""
    today = timezone.localdate()
    return (
        Application.objects.filter(
            commune=commune, state=State.POSTED, posting_starts__lte=today, posting_ends__gte=today
        )
        .select_related("village", "category")
        .order_by("posting_starts", "full_name", "id")
    )


def phone_digits(app: Application) -> str:
    phone = app.phone or app.rep_phone
    return "".join(ch for ch in phone if ch.isdigit())[-4:]


def by_reference_and_phone(reference: str, last4: str) -> Application | None:
    """The application with this reference whose phone (the applicant's, else the
    representative's) ends in `last4`; None for both "no such reference" and "wrong digits"."""
    reference = (reference or "").strip().upper()
    last4 = "".join(ch for ch in (last4 or "") if ch.isdigit())
    app = Application.objects.filter(reference=reference).select_related("category").first()
    expected = phone_digits(app) if app else "0000"
    ok = len(last4) == 4 and hmac.compare_digest(expected, last4)
    return app if app is not None and ok else None


def applications_with_query(qs: QuerySet[Application], q: str) -> QuerySet[Application]:
    q = (q or "").strip()
    if not q:
        return qs
    return qs.filter(Q(reference__iexact=q) | Q(full_name__icontains=q) | Q(cccd=q))
