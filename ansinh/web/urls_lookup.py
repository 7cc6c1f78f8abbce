"""Web URLs of ansinh.lookup (issue 12): the public status lookup at /tra-cuu/ (namespace "public")."""

from django.urls import URLPattern

public_urlpatterns: list[URLPattern] = []
