"""The provider's bank behind one interface, chosen by the setting `ANSINH_BANK_GATEWAY`:

- "sandbox": the sandbox bank in this process (`sandbox`), for the demo and the tests;
- "http": the reference protocol of docs/bank-gateway.md — POST {URL}/pain001 with the pain.001
  as the body (application/xml) answers 200 with a pain.002, or 202 (accepted, answer later);
  GET {URL}/status/{message id} answers 200 with the latest pain.002, 404 for a message the bank
  never received. An API key goes in the X-API-Key header.

`submit` never retries by itself: a timeout or a dropped connection raises `BankError` with
`uncertain=True` (the bank may have the file): the caller records it and asks for the status,
never sends blindly again."""

from __future__ import annotations

import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Protocol

from django.conf import settings


class BankError(Exception):
    def __init__(self, message: str, *, uncertain: bool):
        super().__init__(message)
        self.uncertain = uncertain


class Bank(Protocol):
    name: str

    def submit(self, path: Path, *, message_id: str) -> Path | None:
        """Hand the pain.001 over; returns the pain.002 answer (a file the caller removes), or
        None when the bank answers later."""
        ...

    def status(self, message_id: str) -> Path | None:
        """The latest pain.002 for a message; None when the bank never received it."""
        ...


def _temp() -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=".xml", delete=False)  # noqa: SIM115 (the caller removes it)
    handle.close()
    return Path(handle.name)


class SandboxBank:
    name = "sandbox"

    def __init__(self, options=None):
        self.options = options

    def submit(self, path: Path, *, message_id: str) -> Path | None:
        from . import sandbox

        answer = _temp()
        with answer.open("wb") as out:
            sandbox.receive(path, out, options=self.options)
        return answer

    def status(self, message_id: str) -> Path | None:
        from . import sandbox

        answer = _temp()
        with answer.open("wb") as out:
            found = sandbox.status_report(message_id, out)
        if not found:
            answer.unlink(missing_ok=True)
            return None
        return answer


class HttpBank:
    name = "http"

    def __init__(self, *, url: str, api_key: str, timeout: float):
        parsed = urllib.parse.urlsplit(url)
        local = parsed.hostname in {"127.0.0.1", "localhost", "::1"}
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ValueError("ANSINH_BANK_HTTP_URL must be an https:// address")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Path | None = None) -> tuple[int, Path | None]:
        headers = {"X-API-Key": self.api_key, "Accept": "application/xml"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/xml"
            headers["Content-Length"] = str(body.stat().st_size)
            data = body.open("rb")
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme checked)
                status = response.status
                if status == 202:
                    return status, None
                answer = _temp()
                with answer.open("wb") as out:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
                return status, answer
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and method == "GET":
                return 404, None
            raise BankError(f"HTTP {exc.code} from the bank", uncertain=exc.code >= 500) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BankError(f"the bank did not answer: {reason}", uncertain=True) from exc
        finally:
            if data is not None:
                data.close()

    def submit(self, path: Path, *, message_id: str) -> Path | None:
        _status, answer = self._call("POST", "/pain001", body=path)
        return answer

    def status(self, message_id: str) -> Path | None:
        _status, answer = self._call("GET", "/status/" + urllib.parse.quote(message_id, safe=""))
        return answer


def get_bank(name: str | None = None) -> Bank:
    name = name or getattr(settings, "ANSINH_BANK_GATEWAY", "sandbox")
    if name == "sandbox":
        return SandboxBank()
    if name == "http":
        return HttpBank(
            url=settings.ANSINH_BANK_HTTP_URL,
            api_key=settings.ANSINH_BANK_HTTP_KEY,
            timeout=settings.ANSINH_BANK_HTTP_TIMEOUT,
        )
    raise ValueError(f"unknown bank gateway {name!r} (ANSINH_BANK_GATEWAY: sandbox, http)")
