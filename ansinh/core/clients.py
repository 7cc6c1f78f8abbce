"""The address of the client of a request, for the public site's rate limits (lookup,
complaints, applications): one rule, so that behind a reverse proxy every page counts the real
client and not the proxy."""

from django.conf import settings


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or, behind `ANSINH_TRUSTED_PROXIES` reverse proxies,
    the address the outermost trusted one appended to X-Forwarded-For."""
    hops = settings.ANSINH_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops > 0 and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if chain:
            return chain[-min(hops, len(chain))]
    return request.META.get("REMOTE_ADDR", "")
