"""One rule for the client's address on the public site (lookup, complaints, applications):
behind a reverse proxy the rate limits count the real client, never the proxy."""

from django.test import RequestFactory

from ansinh.applications.throttle import client_key
from ansinh.core.clients import client_address


def _request(forwarded: str = "", remote: str = "10.0.0.1"):
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.ANSINH_TRUSTED_PROXIES = 0
    assert client_address(_request("203.0.113.9")) == "10.0.0.1"


def test_behind_one_proxy_the_forwarded_client_counts(settings):
    settings.ANSINH_TRUSTED_PROXIES = 1
    # a client's own spoofed entry comes first; the proxy appends the real address last
    assert client_address(_request("198.51.100.7, 203.0.113.9")) == "203.0.113.9"
    assert client_key(_request("203.0.113.9")) != client_key(_request("203.0.113.10"))
    assert client_key(_request("1.1.1.1, 203.0.113.9")) == client_key(_request("203.0.113.9"))
