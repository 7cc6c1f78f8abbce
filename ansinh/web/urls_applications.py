"""Web URLs of ansinh.applications (issue 12): `urlpatterns` for staff (namespace "applications"),
`public_urlpatterns` for the public site (namespace "public")."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
public_urlpatterns: list[URLPattern] = []
