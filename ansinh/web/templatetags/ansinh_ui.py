"""Template helpers of the staff UI: `{% load ansinh_ui %}`."""

from datetime import timedelta

from django import template
from django.utils.translation import gettext

from ansinh.web import labels

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    return labels.action_label(action)


@register.simple_tag
def field_label(event, name: str) -> str:
    return labels.field_label(event.object_type, name)


@register.filter
def minutes(value) -> int:
    """A timedelta (or hours as a number) in whole minutes, rounded up."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    else:
        try:
            seconds = float(value) * 3600
        except (TypeError, ValueError):
            return 0
    return int(-(-seconds // 60))


@register.filter
def audit_value(value) -> str:
    """A before/after value of the audit log, readable: empty as an em dash, lists joined."""
    if value is None or value == "":
        return "—"
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    if isinstance(value, list):
        return ", ".join(audit_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {audit_value(v)}" for k, v in value.items())
    return str(value)


@register.filter
def bs_widget(field):
    """Render a bound field's widget with Bootstrap's classes (and `is-invalid` on errors)."""
    widget = field.field.widget
    input_type = getattr(widget, "input_type", "")
    if input_type == "checkbox":
        css = "form-check-input"
    elif input_type == "select":
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})
