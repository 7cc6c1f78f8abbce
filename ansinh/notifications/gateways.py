"""SMS gateways behind one interface, chosen by the setting `ANSINH_SMS_GATEWAY`:

- "sandbox": sends nothing out of the machine. The outbox row is the message the phone would
  have received (the staff page shows them); the provider id is "sandbox-<id>", and a delivery
  poll answers "delivered" — deterministic, for the demo and the tests.
- "http": the reference protocol of docs/sms-gateway.md (JSON over HTTPS, an API key header):
  POST {URL}/messages answers an id; GET {URL}/messages/{id} answers the delivery status.

A gateway raises `GatewayError` with `retry=True` for what may pass later (a timeout, a refused
connection, a 5xx, a 429) and `retry=False` for what will not (any other 4xx, a malformed answer)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings


class GatewayError(Exception):
    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Delivery:
    status: str  # "sent" (not yet delivered), "delivered" or "failed"
    error: str = ""


class Gateway(Protocol):
    name: str

    def send(self, *, phone: str, text: str, reference: str) -> str:
        """Hand one SMS over; returns the provider's message id."""
        ...

    def status(self, provider_id: str) -> Delivery: ...


class SandboxGateway:
    name = "sandbox"

    def send(self, *, phone: str, text: str, reference: str) -> str:
        return f"sandbox-{reference}"

    def status(self, provider_id: str) -> Delivery:
        return Delivery("delivered")


class HttpGateway:
    name = "http"

    def __init__(self, *, url: str, api_key: str, timeout: float):
        parsed = urllib.parse.urlsplit(url)
        local = parsed.hostname in {"127.0.0.1", "localhost", "::1"}
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ValueError("ANSINH_SMS_HTTP_URL must be an https:// address")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (https, or http to the loopback: checked in __init__)
            self.url + path,
            data=data,
            method=method,
            headers={"X-API-Key": self.api_key, "Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme checked)
                raw = response.read()
        except urllib.error.HTTPError as exc:
            retry = exc.code >= 500 or exc.code == 429
            raise GatewayError(f"HTTP {exc.code} from the SMS gateway", retry=retry) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GatewayError(f"SMS gateway unreachable: {reason}", retry=True) from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise GatewayError("the SMS gateway answered something other than JSON", retry=False) from exc
        if not isinstance(answer, dict):
            raise GatewayError("the SMS gateway answered something other than a JSON object", retry=False)
        return answer

    def send(self, *, phone: str, text: str, reference: str) -> str:
        answer = self._call("POST", "/messages", {"to": phone, "text": text, "reference": reference})
        provider_id = answer.get("id")
        if not isinstance(provider_id, str) or not provider_id or len(provider_id) > 100:
            raise GatewayError("the SMS gateway answered without a message id", retry=False)
        return provider_id

    def status(self, provider_id: str) -> Delivery:
        answer = self._call("GET", "/messages/" + urllib.parse.quote(provider_id, safe=""))
        status = answer.get("status")
        if status in {"queued", "sent"}:
            return Delivery("sent")
        if status == "delivered":
            return Delivery("delivered")
        if status == "failed":
            return Delivery("failed", str(answer.get("error") or "")[:400])
        raise GatewayError(f"the SMS gateway answered an unknown status {status!r}", retry=False)


def _sandbox() -> Gateway:
    return SandboxGateway()


def _http() -> Gateway:
    return HttpGateway(
        url=settings.ANSINH_SMS_HTTP_URL,
        api_key=settings.ANSINH_SMS_HTTP_KEY,
        timeout=settings.ANSINH_SMS_HTTP_TIMEOUT,
    )


GATEWAYS = {"sandbox": _sandbox, "http": _http}


def get_gateway(name: str | None = None) -> Gateway:
    name = name or settings.ANSINH_SMS_GATEWAY
    try:
        return GATEWAYS[name]()
    except KeyError:
        raise ValueError(f"unknown SMS gateway {name!r} (ANSINH_SMS_GATEWAY: {', '.join(GATEWAYS)})") from None
