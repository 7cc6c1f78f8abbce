"""Web URLs of monitoring (issue 13), namespace "monitoring"."""

from django.urls import path

from .views import monitoring

urlpatterns = [
    path("", monitoring.home, name="home"),
    path("<int:area_id>/", monitoring.area_view, name="area"),
    path("<int:area_id>/people/", monitoring.people, name="people"),
    path("<int:area_id>/people/export/", monitoring.export_start, name="export_start"),
    path("exports/<int:export_id>/", monitoring.export_detail, name="export"),
    path("exports/<int:export_id>/status/", monitoring.export_status, name="export_status"),
    path("exports/<int:export_id>/download/", monitoring.export_download, name="export_download"),
]
