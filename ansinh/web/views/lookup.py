"""The public status lookup at /tra-cuu/ (no sign-in) and the officers' page of lookup counts."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ansinh.accounts.roles import Cap
from ansinh.core.clients import client_address
from ansinh.lookup import queries, services
from ansinh.lookup.status import masked_name, state_text

from ..forms_lookup import CodeLookupForm, CodeRequestForm, PhoneLookupForm
from ..shortcuts import cap_required

FORMS = {"phone": (PhoneLookupForm, "p"), "send_code": (CodeRequestForm, "r"), "code": (CodeLookupForm, "c")}


def _blank(**initial) -> dict:
    return {action: cls(prefix=prefix, initial=initial.get(action)) for action, (cls, prefix) in FORMS.items()}


def _run(request, action: str, form) -> services.Answer:
    d, client = form.cleaned_data, client_address(request)
    if action == "phone":
        return services.look_up(cccd=d["cccd"], last4=d["last4"], client=client)
    if action == "send_code":
        return services.send_code(cccd=d["cccd"], client=client)
    return services.check_code(cccd=d["cccd"], code=d["code"], client=client)


@never_cache
@require_http_methods(["GET", "POST"])
def lookup(request):
    """One page, three forms (a hidden `action` says which was sent). An answer never echoes the
    CCCD or the digits: "no match" shows the same blank forms whatever was wrong."""
    answer, action, invalid, initial = None, request.POST.get("action", ""), None, {}
    if request.method == "POST" and action in FORMS:
        cls, prefix = FORMS[action]
        form = cls(request.POST, prefix=prefix)
        if form.is_valid():
            answer = _run(request, action, form)
            if answer.outcome == "otp_sent":
                initial = {"code": {"cccd": form.cleaned_data["cccd"]}}
        else:
            invalid = form
    context = {"answer": answer, "action": action, "sms_window": settings.ANSINH_SMS_WINDOW}
    if answer is not None and answer.status is not None:
        # the status shown: no form on the page, none built
        context["name"] = masked_name(answer.name)
        context["payments"] = [(p, state_text(p)) for p in answer.status.payments]
    else:
        forms = _blank(**initial)
        if invalid is not None:
            forms[action] = invalid
        context["forms"] = forms
    return render(request, "lookup/lookup.html", context, status=429 if answer and answer.limited else 200)


@cap_required(Cap.AUDIT_VIEW)
@require_GET
def lookup_log(request):
    """Counts of the public lookups per day and outcome, of the people of the reader's areas."""
    days = queries.counts_per_day(request.user, days=queries.DAYS)
    return render(request, "lookup/log.html", {"days": days, "outcomes": queries.OUTCOMES, "period": queries.DAYS})
