def navigation(request):
    from .navigation import menu_for

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_items": menu_for(user)}
