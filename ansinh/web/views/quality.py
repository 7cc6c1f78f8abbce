"""The data-quality worklist of a commune: the open items per kind, then each item with the
person (CCCD masked unless the user may see it), what is wrong and a link to the page that fixes
it. Opening the page writes nothing: the lists are brought up to date by the nightly
`refresh_worklists` and, for one commune, by the page's refresh button (a POST; a few set-based
statements), and the page says when its commune was last updated."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.quality import queries
from ansinh.quality.models import Kind, WorklistItem
from ansinh.quality.services import max_per_account, refresh_commune, refreshed_at
from ansinh.registry.queries import cccd_visible
from ansinh.verification.models import VerificationResult

from ..shortcuts import cap_required, paginate
from .verification import stop_url

# What is wrong, as the officer reads it, per kind.
EXPLAINED = {
    Kind.CCCD_MISSING: gettext_lazy("No CCCD is recorded: payment and identity verification need it."),
    Kind.CCCD_INVALID: gettext_lazy(
        "The CCCD does not agree with its structure or with the date of birth and gender: check it against the card."
    ),
    Kind.PHONE_MISSING: gettext_lazy("No phone number, and the record does not say the person has none."),
    Kind.PHONE_INVALID: gettext_lazy("The phone number is not a valid Vietnamese number."),
    Kind.NO_METHOD: gettext_lazy("No payment method is chosen (account, pay point or at home)."),
    Kind.NO_PAYEE: gettext_lazy(
        "A representative must receive the money (a guardian, or a child beneficiary), but no current "
        "representative is the payee, or the payee's representation has ended."
    ),
    Kind.UNVERIFIED: gettext_lazy(
        "The identity as registered now has not been checked against the population database."
    ),
    Kind.IDENTITY_MISMATCH: gettext_lazy("The population database does not confirm this identity."),
    Kind.DECEASED: gettext_lazy("The population database reports this person deceased; no stop decision yet."),
    Kind.WEAK_NAME: gettext_lazy(
        "The account holder name does not clearly match the holder's registered name; nobody has confirmed it."
    ),
    Kind.NOT_REPRESENTED: gettext_lazy(
        "The account's holder does not represent this beneficiary (another person's account, or an ended "
        "representation)."
    ),
    Kind.SHARED_ACCOUNT: gettext_lazy("One account receives the money of too many beneficiaries."),
    Kind.STOPPED_PAYABLE: gettext_lazy("The allowance is stopped, but a receiving account is still open."),
    Kind.DUPLICATE_CCCD: gettext_lazy("Another record has the same CCCD."),
    Kind.DUPLICATE_NAME: gettext_lazy("Another receiving record in the province has the same name and date of birth."),
}

FIELD_NAMES = {
    "full_name": gettext_lazy("full name"),
    "birth_date": gettext_lazy("date of birth"),
    "gender": gettext_lazy("gender"),
    "cccd": gettext_lazy("CCCD"),
}


def _commune(request, communes: QuerySet[Area]) -> Area | None:
    raw = request.GET.get("commune", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        return get_object_or_404(communes, pk=int(raw))
    only = list(communes[:2])
    return only[0] if len(only) == 1 else None


def _village(request, user, commune: Area | None) -> Area | None:
    raw = request.GET.get("village", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    villages = access.areas_for(user, Cap.QUALITY_VIEW).filter(level=Level.VILLAGE)
    if commune is not None:
        villages = villages.filter(parent=commune)
    return get_object_or_404(villages, pk=int(raw))


def _payments(b_id: int) -> str:
    return reverse("registry:detail", args=[b_id]) + "#payments"


def _fix(item: WorklistItem, results: dict[int, VerificationResult]) -> tuple[str, str, str]:
    """(details, fix link, fix label) of one item."""
    b, d = item.beneficiary, item.detail or {}
    edit = reverse("registry:edit", args=[b.pk])
    kind = item.kind
    if kind in (Kind.CCCD_MISSING, Kind.CCCD_INVALID):
        return "", edit, _("Correct the CCCD")
    if kind in (Kind.PHONE_MISSING, Kind.PHONE_INVALID):
        return "", edit, _("Correct the phone number")
    if kind == Kind.NO_METHOD:
        return "", reverse("payments:method", args=[b.pk]), _("Choose the payment method")
    if kind == Kind.NO_PAYEE:
        return "", reverse("payments:payee", args=[b.pk]), _("Designate the payee")
    if kind == Kind.UNVERIFIED:
        return "", reverse("verification:list"), _("Verification runs")
    if kind == Kind.IDENTITY_MISMATCH:
        result = results.get(d.get("result") or 0)
        if result is not None and result.outcome == "mismatch":
            fields = ", ".join(str(FIELD_NAMES.get(f, f)) for f in result.mismatched_fields)
            text = _("Differs: %(fields)s.") % {"fields": fields} if fields else ""
        else:
            text = _("Not found in the population database: check the CCCD.")
        return text, edit, _("Correct name, date of birth or CCCD")
    if kind == Kind.DECEASED:
        death = d.get("death_date")
        text = ""
        if death:
            day = date.fromisoformat(death)
            text = _("Date of death: %(date)s.") % {"date": day.strftime("%d/%m/%Y")}
            return text, stop_url(b.pk, day), _("Record the stop decision")
        return text, reverse("registry:decision", args=[b.pk]), _("Record the stop decision")
    if kind == Kind.WEAK_NAME:
        text = _("Name match %(score)s/100.") % {"score": d.get("score", 0)}
        return text, _payments(b.pk), _("Check and confirm the holder name")
    if kind == Kind.NOT_REPRESENTED:
        return "", _payments(b.pk), _("Check the account")
    if kind == Kind.SHARED_ACCOUNT:
        text = _("Receives for %(n)s people (at most %(max)s).") % {"n": d.get("count", 0), "max": max_per_account()}
        return text, _payments(b.pk), _("Check the account")
    if kind == Kind.STOPPED_PAYABLE:
        return "", _payments(b.pk), _("Close the account")
    if kind == Kind.DUPLICATE_CCCD and d.get("other"):
        if not d.get("other_visible"):  # another commune's record: never its number
            text = _("A record of another commune has the same CCCD: contact that commune.")
            return text, reverse("registry:detail", args=[b.pk]), _("Check the record")
        text = _("Other record: no. %(id)s.") % {"id": d["other"]}
        return text, reverse("registry:detail", args=[d["other"]]), _("Compare the records")
    return "", reverse("registry:list") + "?" + urlencode({"q": b.full_name}), _("Find the records")


def _refresh(request, communes: QuerySet[Area]):
    """The refresh button: one commune the user may edit the registry of, then back to the page."""
    if not access.has_cap(request.user, Cap.REGISTRY_EDIT):  # read-only roles
        raise PermissionDenied
    raw = request.POST.get("refresh", "")
    if not raw.isdigit():
        raise Http404
    commune = get_object_or_404(communes, pk=int(raw))
    if not access.can_in_area(request.user, Cap.REGISTRY_EDIT, commune):
        raise PermissionDenied
    refresh_commune(commune=commune, actor=request.user)
    return redirect(request.get_full_path())


@require_http_methods(["GET", "POST"])
@cap_required(Cap.QUALITY_VIEW)
def worklist(request):
    user = request.user
    communes = queries.communes_for(user)
    if request.method == "POST":
        return _refresh(request, communes)
    commune = _commune(request, communes)
    village = _village(request, user, commune)
    items = queries.open_items_for(user)
    if commune is not None:
        items = items.filter(area_path__startswith=commune.path)
    if village is not None:
        items = items.filter(area_path__startswith=village.path)
    counts = queries.counts(items)
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        items = items.filter(kind=kind)
    else:
        kind = ""
    items = items.select_related("beneficiary__village", "beneficiary__commune", "account__institution").order_by(
        "kind", "beneficiary__sort_key", "id"
    )
    page = paginate(request, items)
    result_ids = [i.detail.get("result") for i in page.object_list if isinstance(i.detail, dict)]
    results = VerificationResult.objects.in_bulk([r for r in result_ids if r])
    full_cccd = cccd_visible(user)
    visible = queries.visible_others(user, page.object_list)
    for item in page.object_list:
        if isinstance(item.detail, dict) and "other" in item.detail:
            item.detail["other_visible"] = item.detail["other"] in visible
        b = item.beneficiary
        item.cccd_shown = b.cccd if full_cccd(b.area_path) else b.masked_cccd
        item.explained = EXPLAINED[Kind(item.kind)]
        item.details, item.fix_url, item.fix_label = _fix(item, results)
    kind_labels = dict(Kind.choices)
    context = {
        "communes": list(communes[:500]),
        "commune": commune,
        "villages": list(Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key"))
        if commune
        else [],
        "village": village,
        "updated_at": refreshed_at(commune) if commune is not None else None,
        "can_refresh": commune is not None and access.can_in_area(user, Cap.REGISTRY_EDIT, commune),
        "kind": kind,
        "kinds": Kind.choices,
        "counts": [(k, kind_labels[k], n) for k, n in counts.items()],
        "total": sum(counts.values()),
        "page": page,
    }
    return render(request, "quality/worklist.html", context)
