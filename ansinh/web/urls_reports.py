"""Web URLs of reports (issue 13), namespace "reports": the chooser and the statutory tables
(Biểu 01/02/03: reports:bieu, with the query parameters area, tree, from, to, as_of, format)."""

from django.urls import URLPattern, path

from .views import reports

urlpatterns: list[URLPattern] = [
    path("", reports.index, name="index"),
    path("<str:bieu>/", reports.bieu, name="bieu"),
]
