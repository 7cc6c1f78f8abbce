"""Numbers of the monitoring dashboard written the Vietnamese way (1.598; 16,52 %)."""

from django import template

from ansinh.reports.kpis import format_number, format_share

register = template.Library()


@register.filter
def vn(value) -> str:
    """An integer with '.' between thousands; '–' for nothing."""
    return format_number(value)


@register.filter
def vn_share(value) -> str:
    """A share in percent with two decimals: '16,52 %'; '–' when there is no one to count."""
    return format_share(value)
