from django.conf import settings
from django.middleware.gzip import GZipMiddleware


class SecurityHeadersMiddleware:
    """Strict headers Django 5.2 does not set itself: Content-Security-Policy and Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            # Django admin uses inline scripts in a few widgets.
            response.headers.setdefault(
                "Content-Security-Policy",
                settings.CONTENT_SECURITY_POLICY.replace(
                    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
                ).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
            )
        elif request.path.startswith("/api/v1/docs"):
            pass
        else:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        return response


class GZipTextMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (with its BREACH mitigation: random bytes in the gzip header)
    for text only: pages, HTMX fragments, CSV. Spreadsheets and other zip-based files are
    compressed already; static files are WhiteNoise's, served from gzip copies; the JSON API
    answers machines, not phones on a slow line, and stays as it was."""

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/"):
            return response
        return super().process_response(request, response)
