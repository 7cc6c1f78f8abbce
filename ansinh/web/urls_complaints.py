"""Web URLs of ansinh.complaints (issue 12): `urlpatterns` for staff (namespace "complaints"),
`public_urlpatterns` for the public site (namespace "public")."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
public_urlpatterns: list[URLPattern] = []
