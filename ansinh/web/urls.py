from django.contrib.auth import views as auth_views
from django.urls import include, path

from .views import account, areas, audit, dashboard, orgs

areas_patterns = [
    path("", areas.area_list, name="list"),
    path("<int:pk>/", areas.area_detail, name="detail"),
    path("<int:pk>/villages/", areas.create_village, name="create_village"),
]
orgs_patterns = [path("", orgs.org_list, name="list")]
audit_patterns = [path("", audit.audit_list, name="list")]
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
    path("orgs/", include((orgs_patterns, "orgs"))),
    path("audit/", include((audit_patterns, "audit"))),
    path("account/", include((account_patterns, "account"))),
]
