"""HTTP client for the reference protocol of docs/population-adapter.md: JSON over HTTPS with
requests signed by HMAC-SHA256 (method, path, timestamp and body hash) under a shared key.

The national population database's interface is not public; this protocol is ours, a reference
that a gateway (or a later adapter) translates to the real interface."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..models import Outcome
from . import AdapterError, PersonAnswer, PersonQuery

VERIFY_PATH = "/v1/identity/verify"
REPLAY_WINDOW_SECONDS = 300
MAX_BATCH = 500


def string_to_sign(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, hashlib.sha256(body).hexdigest()]).encode()


def sign(key: bytes, method: str, path: str, timestamp: str, body: bytes) -> str:
    return hmac.new(key, string_to_sign(method, path, timestamp, body), hashlib.sha256).hexdigest()


def signature_valid(
    key: bytes, method: str, path: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    """What the server checks: the timestamp inside the replay window and the signature."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - ts) > REPLAY_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(sign(key, method, path, timestamp, body), signature or "")


class HttpAdapter:
    batch_size = MAX_BATCH

    def __init__(self, *, base_url: str, client_id: str, key: bytes, timeout: float = 10.0):
        if not base_url or not key or not client_id:
            raise ImproperlyConfigured(
                "The http population adapter needs ANSINH_POPULATION_URL, ANSINH_POPULATION_CLIENT_ID "
                "and ANSINH_POPULATION_KEY."
            )
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.path = parts.path.rstrip("/") + VERIFY_PATH
        self.client_id = client_id
        self.key = key
        self.timeout = timeout
        self.source = f"http:{parts.hostname}"

    @classmethod
    def from_settings(cls) -> HttpAdapter:
        return cls(
            base_url=settings.ANSINH_POPULATION_URL,
            client_id=settings.ANSINH_POPULATION_CLIENT_ID,
            key=settings.ANSINH_POPULATION_KEY.encode(),
            timeout=settings.ANSINH_POPULATION_TIMEOUT,
        )

    def verify(self, items: Sequence[PersonQuery]) -> list[PersonAnswer]:
        answers: list[PersonAnswer] = []
        for start in range(0, len(items), MAX_BATCH):
            answers.extend(self._batch(items[start : start + MAX_BATCH]))
        return answers

    def _batch(self, items: Sequence[PersonQuery]) -> list[PersonAnswer]:
        body = json.dumps(
            {
                "request_id": str(uuid.uuid4()),
                "items": [
                    {
                        "ref": q.ref,
                        "cccd": q.cccd,
                        "full_name": q.full_name,
                        "birth_date": q.birth_date.isoformat(),
                        "gender": q.gender,
                    }
                    for q in items
                ],
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 (the URL comes from settings)
            self.base_url + VERIFY_PATH,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Client-Id": self.client_id,
                "X-Timestamp": timestamp,
                "X-Signature": sign(self.key, "POST", self.path, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise AdapterError(f"population database refused the request: HTTP {exc.code}") from exc
        except TimeoutError as exc:
            raise AdapterError("population database did not answer in time") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise AdapterError("population database did not answer in time") from exc
            raise AdapterError(f"population database unreachable: {exc.reason}") from exc
        except OSError as exc:  # connection reset, closed without an answer
            raise AdapterError(f"population database connection failed: {exc}") from exc
        except ValueError as exc:
            raise AdapterError("population database answered malformed JSON") from exc
        return self._answers(items, payload)

    @staticmethod
    def _answers(items: Sequence[PersonQuery], payload) -> list[PersonAnswer]:
        try:
            by_ref = {str(r["ref"]): r for r in payload["results"]}
            answers = []
            for q in items:
                r = by_ref[q.ref]
                outcome = Outcome(r["status"])
                death = date.fromisoformat(r["death_date"]) if outcome == Outcome.DECEASED else None
                fields = [str(f) for f in r.get("fields", [])] if outcome == Outcome.MISMATCH else []
                answers.append(PersonAnswer(ref=q.ref, outcome=outcome, mismatched_fields=fields, death_date=death))
        except (KeyError, TypeError, ValueError) as exc:
            raise AdapterError("population database answered an unexpected document") from exc
        return answers
