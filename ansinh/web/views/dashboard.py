from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ansinh.accounts import access

from ..roles_ui import dashboard_cards


@require_GET
@login_required
def dashboard(request):
    """One card per role the user holds: what the role does, where, and the pages open to it.
    Figures stay empty until the modules that record them exist."""
    user = request.user
    caps = access.capabilities(user)
    context = {
        "cards": dashboard_cards(request, caps),
        "top_areas": access.top_areas(user),
        "is_global": access.is_global(user),
    }
    return render(request, "web/dashboard.html", context)
