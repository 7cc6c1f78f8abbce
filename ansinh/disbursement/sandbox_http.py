"""The sandbox bank over HTTP (docs/bank-gateway.md), mounted at /sandbox-bank/ only while the
sandbox is enabled (ANSINH_BANK_GATEWAY=sandbox): the same protocol a real bank's gateway speaks
to `bank.HttpBank`, so the client can be tried end to end against it.

- POST /sandbox-bank/pain001 — body: a pain.001.001.09 (application/xml); 200 with the pain.002
  answer; 400 with a JSON error when the file is not a valid pain.001.
- GET /sandbox-bank/status/<message id> — 200 with the latest pain.002; 404 for a message never
  received.

Both need the header X-API-Key: ANSINH_SANDBOX_BANK_KEY (401 otherwise)."""

from __future__ import annotations

import hmac
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponseBase, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import sandbox

MAX_BYTES = 512 * 1024 * 1024


def _authorised(request: HttpRequest) -> bool:
    given = request.headers.get("X-API-Key", "")
    return bool(given) and hmac.compare_digest(given, settings.ANSINH_SANDBOX_BANK_KEY)


def _xml_response(handle) -> FileResponse:
    handle.seek(0)
    return FileResponse(handle, content_type="application/xml")


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> HttpResponseBase:
    if not _authorised(request):
        return JsonResponse({"error": "unauthorised"}, status=401)
    length = int(request.headers.get("Content-Length") or 0)
    if length > MAX_BYTES:
        return JsonResponse({"error": "file too large"}, status=413)
    with tempfile.NamedTemporaryFile(suffix=".xml") as received:
        for block in iter(lambda: request.read(1 << 20), b""):
            received.write(block)
        received.flush()
        answer = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        try:
            sandbox.receive(Path(received.name), answer)
        except sandbox.SandboxRefused as exc:
            answer.close()
            return JsonResponse({"error": str(exc)}, status=400)
    return _xml_response(answer)


@require_GET
def status(request: HttpRequest, message_id: str) -> HttpResponseBase:
    if not _authorised(request):
        return JsonResponse({"error": "unauthorised"}, status=401)
    answer = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    if not sandbox.status_report(message_id, answer):
        answer.close()
        return JsonResponse({"error": "unknown message"}, status=404)
    return _xml_response(answer)


urlpatterns = [
    path("pain001", receive, name="receive"),
    path("status/<str:message_id>", status, name="status"),
]
