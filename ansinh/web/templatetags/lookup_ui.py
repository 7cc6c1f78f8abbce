"""The fields of the public lookup's forms, written in Python: the page is the hot path of the
public site (200 requests/s), and a field through `_field.html` and Django's widget templates
costs several times more. Same markup as `_field.html` with `bs_widget`."""

from django import template
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def digits_field(field):
    """A digits-only text input with its label, errors and help (a bound or unbound field)."""
    attrs = field.field.widget.attrs
    errors = field.errors
    described = [f"{field.auto_id}_helptext"] + ([f"{field.auto_id}_error"] if errors else [])
    value = field.value() or ""
    return format_html(
        '<div class="mb-3"><label class="form-label" for="{id}">{label} '
        '<span class="text-danger" aria-hidden="true">*</span></label>'
        '<input type="text" name="{name}" value="{value}" class="form-control{invalid}" id="{id}" required '
        'inputmode="numeric" pattern="[0-9 ]*" maxlength="{maxlength}" autocomplete="{autocomplete}" '
        'aria-describedby="{described}"{aria_invalid}>'
        "{errors}"
        '<div class="form-text" id="{id}_helptext">{help}</div></div>',
        id=field.auto_id,
        label=field.label,
        name=field.html_name,
        value=value,
        invalid=" is-invalid" if errors else "",
        maxlength=attrs.get("maxlength", ""),
        autocomplete=attrs.get("autocomplete", "off"),
        described=" ".join(described),
        aria_invalid=mark_safe(' aria-invalid="true"') if errors else "",  # noqa: S308 (a constant)
        errors=format_html_join(
            "", '<div class="invalid-feedback" id="{}_error">{}</div>', ((field.auto_id, e) for e in errors)
        ),
        help=field.help_text,
    )


class OnceNode(template.Node):
    """`{% once %}…{% endonce %}`: the enclosed markup rendered once per process, language and
    URL prefix, then reused. For the public lookup page (its hot path): its headings,
    explanations, links and the site's frame do not change from one request to the next, and
    rendering their `{% translate %}`, `{% url %}` and `{% static %}` tags each time cost more than
    the answer itself. ONLY for markup that depends on nothing but the language: never a
    variable of the request (an answer, a form, a CSRF token). The node belongs to the compiled
    template (the cached loader): a changed template is a new node."""

    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.rendered: dict[tuple[str, str], str] = {}

    def render(self, context) -> str:
        key = (translation.get_language() or "", get_script_prefix())
        try:
            return self.rendered[key]
        except KeyError:
            text = self.rendered[key] = mark_safe(self.nodelist.render(context))  # noqa: S308 (rendered by the template engine)
            return text


@register.tag
def once(parser, token):
    nodelist = parser.parse(("endonce",))
    parser.delete_first_token()
    return OnceNode(nodelist)
