"""Web URLs of ansinh.complaints (issue 12): `urlpatterns` for staff (namespace "complaints"),
`public_urlpatterns` for the public site (namespace "public")."""

from django.urls import path

from .views import complaints

urlpatterns = [
    path("", complaints.register, name="register"),
    path("export.xlsx", complaints.export, name="export"),
    path("new/", complaints.new, name="new"),
    path("<int:pk>/", complaints.detail, name="detail"),
    path("<int:pk>/assign/", complaints.assign, name="assign"),
    path("<int:pk>/identify/", complaints.identify, name="identify"),
    path("<int:pk>/link/", complaints.link, name="link"),
    path("<int:pk>/resolve/", complaints.resolve, name="resolve"),
    path("<int:pk>/reject/", complaints.reject, name="reject"),
    path("<int:pk>/withdraw/", complaints.withdraw, name="withdraw"),
]
public_urlpatterns = [
    path("tra-cuu/khieu-nai/", complaints.public_new, name="complaint_new"),
    path("tra-cuu/khieu-nai/trang-thai/", complaints.public_status, name="complaint_status"),
]
