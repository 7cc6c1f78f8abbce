"""Web URLs of ansinh.applications (issue 12): `urlpatterns` for staff (namespace "applications"),
`public_urlpatterns` for the public site (namespace "public")."""

from django.urls import path

from .views import applications as views

urlpatterns = [
    path("", views.application_list, name="list"),
    path("new/", views.application_counter, name="counter"),
    path("<int:pk>/", views.application_detail, name="detail"),
    path("<int:pk>/review/", views.application_review, name="review"),
    path("<int:pk>/post/", views.application_post, name="post"),
    path("<int:pk>/decide/", views.application_decide, name="decide"),
    path("<int:pk>/withdraw/", views.application_withdraw, name="withdraw"),
    path("<int:pk>/documents/", views.application_add_documents, name="add_documents"),
    path("<int:pk>/documents/<int:attachment_id>/", views.attachment_download, name="document"),
]
public_urlpatterns = [
    path("ho-so/", views.public_form, name="application_form"),
    path("ho-so/trang-thai/", views.public_status, name="application_status"),
    path("ho-so/niem-yet/<str:code>/", views.public_posting, name="application_posting"),
]
