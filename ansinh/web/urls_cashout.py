"""Web URLs of ansinh.cashout (issue 12): `urlpatterns` for staff (namespace "cashout"),
`public_urlpatterns` for the public site (namespace "public")."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
public_urlpatterns: list[URLPattern] = []
