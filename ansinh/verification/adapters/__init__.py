"""Adapters to the national population database, chosen by the setting
`ANSINH_POPULATION_ADAPTER` from a plain dict registry. Each takes a batch of `PersonQuery`
and answers one `PersonAnswer` per item (same `ref`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class PersonQuery:
    ref: str
    cccd: str
    full_name: str
    birth_date: date
    gender: str  # "male" / "female"


@dataclass(frozen=True)
class PersonAnswer:
    ref: str
    outcome: str  # models.Outcome value
    mismatched_fields: list[str] = field(default_factory=list)
    death_date: date | None = None


class AdapterError(Exception):
    """The population database could not answer (network, refusal, malformed answer)."""


class PopulationAdapter(Protocol):
    source: str
    batch_size: int

    def verify(self, items: Sequence[PersonQuery]) -> list[PersonAnswer]: ...


def _sandbox() -> PopulationAdapter:
    from .sandbox import SandboxAdapter

    return SandboxAdapter()


def _http() -> PopulationAdapter:
    from .http import HttpAdapter

    return HttpAdapter.from_settings()


ADAPTERS: dict[str, Callable[[], PopulationAdapter]] = {"sandbox": _sandbox, "http": _http}


def get_adapter(name: str | None = None) -> PopulationAdapter:
    name = name or settings.ANSINH_POPULATION_ADAPTER
    try:
        factory = ADAPTERS[name]
    except KeyError:
        raise ImproperlyConfigured(f"ANSINH_POPULATION_ADAPTER: unknown adapter {name!r}") from None
    return factory()
