from django.conf import settings
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

# The sandbox bank's HTTP endpoint exists only while the sandbox is the bank (docs/bank-gateway.md).
if settings.ANSINH_BANK_GATEWAY == "sandbox":
    urlpatterns.insert(0, path("sandbox-bank/", include(("ansinh.disbursement.sandbox_http", "sandbox_bank"))))
