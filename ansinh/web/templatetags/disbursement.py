"""The transfer leg on the payroll pages: `{% load disbursement %}{% transfers_link cycle %}` on the
cycle page (from approval on, for those who see transfers there) and `{% may_see_transfers as x %}`
for the payroll tabs."""

from django import template

register = template.Library()


@register.inclusion_tag("disbursement/_cycle_link.html", takes_context=True)
def transfers_link(context, cycle):
    from ansinh.disbursement import queries
    from ansinh.disbursement.models import ProviderBatch

    request = context.get("request")
    user = getattr(request, "user", None)
    shown = bool(
        user and user.is_authenticated and cycle.state in queries.TRANSFER_STATES and queries.may_view(user, cycle)
    )
    batches = ProviderBatch.objects.filter(cycle=cycle).count() if shown else 0
    return {"cycle": cycle, "shown": shown, "batches": batches}


@register.simple_tag(takes_context=True)
def may_see_transfers(context) -> bool:
    from ansinh.disbursement import queries

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and queries.may_see_transfers(user))
