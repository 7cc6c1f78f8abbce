from django.contrib.auth import views as auth_views
from django.urls import include, path

from .views import (
    account,
    areas,
    audit,
    dashboard,
    imports,
    notifications,
    orgs,
    payments,
    reform,
    registry,
    verification,
)

areas_patterns = [
    path("", areas.area_list, name="list"),
    path("print/", areas.area_print, name="print"),
    path("<int:pk>/", areas.area_detail, name="detail"),
    path("<int:pk>/villages/", areas.create_village, name="create_village"),
]
registry_patterns = [
    path("", registry.beneficiary_list, name="list"),
    path("new/", registry.beneficiary_create, name="create"),
    path("export.xlsx", registry.beneficiary_export, name="export"),
    path("print/", registry.beneficiary_print, name="print"),
    path("moves/", registry.move_list, name="moves"),
    path("moves/print/", registry.move_print, name="moves_print"),
    path("moves/<int:pk>/accept/", registry.move_accept, name="move_accept"),
    path("<int:pk>/", registry.beneficiary_detail, name="detail"),
    path("<int:pk>/edit/", registry.beneficiary_edit, name="edit"),
    path("<int:pk>/decisions/new/", registry.decision_create, name="decision"),
    path("<int:pk>/representatives/new/", registry.representative_add, name="representative_add"),
    path("<int:pk>/representatives/<int:link_pk>/end/", registry.representative_end, name="representative_end"),
    path("<int:pk>/payee/", registry.payee_set, name="payee"),
]
payments_patterns = [
    path("<int:pk>/payment-method/", payments.method_change, name="method"),
    path("<int:pk>/payment-payee/", payments.payee_change, name="payee"),
    path("<int:pk>/receiving-accounts/new/", payments.account_add, name="account_add"),
]
orgs_patterns = [path("", orgs.org_list, name="list"), path("print/", orgs.org_print, name="print")]
audit_patterns = [path("", audit.audit_list, name="list")]
imports_patterns = [
    path("", imports.import_index, name="index"),
    path("template.xlsx", imports.template_download, name="template"),
    path("<int:pk>/", imports.job_detail, name="detail"),
    path("<int:pk>/status/", imports.job_status, name="status"),
    path("<int:pk>/confirm/", imports.job_confirm, name="confirm"),
    path("<int:pk>/cancel/", imports.job_cancel, name="cancel"),
    path("<int:pk>/report.xlsx", imports.job_report, name="report"),
]
notifications_patterns = [path("", notifications.message_list, name="list")]
verification_patterns = [
    path("", verification.run_list, name="list"),
    path("start/", verification.run_start, name="start"),
    path("<int:pk>/", verification.run_detail, name="run"),
]
reform_patterns = [path("villages/", reform.village_assignments, name="villages")]
account_patterns = [
    path("tokens/", account.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", account.revoke_token, name="revoke_token"),
]

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("areas/", include((areas_patterns, "areas"))),
    path("beneficiaries/", include((registry_patterns, "registry"))),
    path("beneficiaries/", include((payments_patterns, "payments"))),
    path("orgs/", include((orgs_patterns, "orgs"))),
    path("audit/", include((audit_patterns, "audit"))),
    path("account/", include((account_patterns, "account"))),
    path("imports/", include((imports_patterns, "imports"))),
    path("reform/", include((reform_patterns, "reform"))),
    path("verification/", include((verification_patterns, "verification"))),
    path("notifications/", include((notifications_patterns, "notifications"))),
]
