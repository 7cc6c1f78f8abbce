"""The approval section of the cycle page: `{% load payroll_approval %}{% approval_section cycle %}`
(its data come from ansinh.web.views.payroll_approval.approval_context), and the link from a
payroll line to a payment fix: `{% fix_link cycle line %}`."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.inclusion_tag("payroll/_approval.html", takes_context=True)
def approval_section(context, cycle):
    from ansinh.web.views.payroll_approval import approval_context

    request = context.get("request")
    return approval_context(request, cycle) | {
        "cycle": cycle,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


def _may_fix(request, cycle) -> bool:
    cache = getattr(request, "_payroll_may_fix", None)
    if cache is None or cache[0] != cycle.pk:
        from ansinh.accounts import access
        from ansinh.accounts.roles import Cap
        from ansinh.payroll.fixes import FIXABLE_STATES
        from ansinh.payroll.models import PayrollApproval

        allowed = (
            cycle.state in FIXABLE_STATES
            and access.can_in_area(request.user, Cap.PAYROLL_PREPARE, cycle.area)
            and PayrollApproval.objects.filter(cycle=cycle).exists()
        )
        cache = (cycle.pk, allowed)
        request._payroll_may_fix = cache
    return cache[1]


@register.simple_tag(takes_context=True)
def fix_link(context, cycle, line) -> str:
    """A small link "Điều chỉnh cách chi" on a line of an approved payroll, for the office."""
    request = context.get("request")
    if request is None or line.amount <= 0 or not _may_fix(request, cycle):
        return ""
    url = reverse("payroll:cycle", kwargs={"pk": cycle.pk}) + f"?fix_line={line.pk}#payment-fixes"
    return format_html(' <a class="small" href="{}" data-link="fix-line">{}</a>', url, _("Fix how it is paid"))
