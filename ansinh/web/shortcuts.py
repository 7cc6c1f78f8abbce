"""Small helpers shared by the staff views: capability checks, HTMX detection, paging."""

from functools import cached_property, wraps

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


class CappedPaginator(Paginator):
    """A Paginator that counts no further than `cap` rows (`SELECT count(*) FROM (… LIMIT cap
    + 1)`): an exact count of a whole province (a million rows) costs more than the page itself.
    When more rows match, `count_exact` is false, `count` is the cap and only the first `cap`
    rows can be paged through. `object_list` is a QuerySet or anything with `count_upto(cap)`
    (registry.queries.RankedResults)."""

    def __init__(self, object_list, per_page, cap: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _count_upto(self) -> int:
        from ansinh.registry.queries import count_upto

        return count_upto(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return min(self._count_upto, self.cap)

    @property
    def count_exact(self) -> bool:
        return self._count_upto <= self.cap


def paginate(request, queryset, per_page: int = PAGE_SIZE, count_cap: int | None = None) -> Page:
    """The requested page (the last one when out of range). With `count_cap`, the count stops
    there (CappedPaginator); `page.paginator.count_exact` tells whether it did."""
    if count_cap is None:
        paginator = Paginator(queryset, per_page)
        paginator.count_exact = True  # type: ignore[attr-defined]
    else:
        paginator = CappedPaginator(queryset, per_page, cap=count_cap)
    return paginator.get_page(request.GET.get("page"))
