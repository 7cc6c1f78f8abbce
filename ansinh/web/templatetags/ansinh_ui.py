"""Template helpers of the staff UI: `{% load ansinh_ui %}`."""

from datetime import timedelta

from django import template

from ansinh.web import labels

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    return labels.action_label(action)


@register.simple_tag(takes_context=True)
def audit_entries(context, events):
    """The events as sentences for the reader (`ansinh.web.audit_text.render`), with a few
    batched look-ups for the whole list: `{% audit_entries events as entries %}`."""
    from ansinh.web.audit_text import render

    request = context.get("request")
    return render(events or [], getattr(request, "user", None))


@register.filter
def number(value) -> str:
    """A count as Vietnamese write it: 9.670 (never for ids or values in URLs)."""
    from ansinh.core.text import format_number

    try:
        return format_number(int(value))
    except (TypeError, ValueError):
        return "" if value is None else str(value)


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
