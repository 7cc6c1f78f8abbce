"""Web URLs of ansinh.lookup (issue 12): the public status lookup at /tra-cuu/ (namespace "public")
and, for officers with audit.view, the counts of the lookups (namespace "lookup", /lookups/)."""

from django.urls import URLPattern, path

from .views import lookup

public_urlpatterns: list[URLPattern] = [path("tra-cuu/", lookup.lookup, name="lookup")]
urlpatterns: list[URLPattern] = [path("", lookup.lookup_log, name="log")]
