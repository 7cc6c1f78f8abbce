from django.utils.functional import SimpleLazyObject


def navigation(request):
    """The menu and the roles shown in the header (the roles are read only if a page shows them)."""
    from .navigation import menu_for
    from .roles_ui import roles_held

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_items": menu_for(user), "my_roles": SimpleLazyObject(lambda: roles_held(request))}
