"""Human names for audit actions and changed fields. Later modules add their actions here;
an action without a label is shown as its typed name."""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "accounts.user.created": _("User created"),
    "accounts.user.changed": _("User changed"),
    "accounts.user.deleted": _("User deleted"),
    "accounts.user.password_changed": _("Password changed"),
    "accounts.role.assigned": _("Role assigned"),
    "accounts.role.changed": _("Role assignment changed"),
    "accounts.role.revoked": _("Role revoked"),
    "accounts.orgunit.created": _("Organisation unit created"),
    "accounts.orgunit.changed": _("Organisation unit changed"),
    "accounts.orgunit.deleted": _("Organisation unit deleted"),
    "accounts.responsibility.assigned": _("Responsibility assigned"),
    "accounts.responsibility.changed": _("Responsibility changed"),
    "accounts.responsibility.deleted": _("Responsibility removed"),
    "accounts.api_token.created": _("API token created"),
    "accounts.api_token.revoked": _("API token revoked"),
    "areas.area.created": _("Area created"),
    "areas.area.changed": _("Area changed"),
    "areas.village.created": _("Village created"),
    "areas.village.renamed": _("Village renamed"),
    "areas.tree.loaded": _("Administrative tree loaded"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def field_label(object_type: str, name: str) -> str:
    """The verbose name of a model field from an audit event's object type ('areas.area')."""
    try:
        model = apps.get_model(object_type)
        return str(model._meta.get_field(name).verbose_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return name
