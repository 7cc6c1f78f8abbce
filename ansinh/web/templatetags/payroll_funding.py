"""The funding section of the cycle page: `{% load payroll_funding %}{% funding_section cycle %}`
(its data come from ansinh.web.views.payroll_funding.funding_context, so the cycle view does
not need to know about funding)."""

from django import template

register = template.Library()


@register.inclusion_tag("payroll/_funding.html", takes_context=True)
def funding_section(context, cycle):
    from ansinh.web.views.payroll_funding import funding_context

    request = context.get("request")
    data = funding_context(request.user, cycle)
    return data | {"cycle": cycle, "csrf_token": context.get("csrf_token"), "request": request}


@register.simple_tag(takes_context=True)
def may_see_budget(context) -> bool:
    """Whether the user's roles show the budget estimate tab."""
    from ansinh.accounts import access
    from ansinh.web.views.payroll_funding import BUDGET_CAPS

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and any(access.has_cap(user, cap) for cap in BUDGET_CAPS))
