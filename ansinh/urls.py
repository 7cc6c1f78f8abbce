from django.contrib import admin
from django.urls import include, path

from ansinh.api.urls import api

urlpatterns = [
    path("healthz", include("ansinh.core.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ansinh.web.urls")),
]
