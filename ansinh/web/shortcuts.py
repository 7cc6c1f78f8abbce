"""Small helpers shared by the staff views: capability checks, HTMX detection, paging."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.utils.cache import patch_vary_headers

from ansinh.accounts import access

PAGE_SIZE = 50


def cap_required(cap: str):
    """Login required, then the capability somewhere (403 otherwise). The object lookup
    in the view still scopes to the areas where the capability holds."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not access.has_cap(request.user, cap):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def vary_on_htmx(response):
    patch_vary_headers(response, ["HX-Request"])
    return response


def paginate(request, queryset, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
