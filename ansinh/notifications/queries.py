"""What a user may read of the outbox: the messages of their areas where they hold
`notifications.view`; the phone in full only where they manage users or see contact data."""

from django.db.models import QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap

from .models import Message


def messages_for(user, *, status: str = "") -> QuerySet[Message]:
    qs = access.scope(Message.objects.all(), user, Cap.NOTIFICATIONS_VIEW, path_field="area_path")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def phone_visible(user):
    """A function area_path → whether the user sees the full phone of a message there."""
    manage = [*access.paths_with(user, Cap.USERS_MANAGE), *access.paths_with(user, Cap.REGISTRY_VIEW_CONTACT)]
    everywhere = access.everywhere(user, Cap.USERS_MANAGE)

    def visible(area_path: str) -> bool:
        return everywhere or bool(area_path and any(area_path.startswith(p) for p in manage))

    return visible
