"""The file formats of the disbursement leg (issue 11): pure functions, no database.

- `pain001`: the ISO 20022 transfer order (pain.001.001.09) the system writes for the bank;
- `pain002`: the bank's status report (pain.002.001.10) the system reads;
- `provider_xlsx`: the account list and results file of a provider that takes spreadsheets.

`FORMATS` maps the name a batch or an import records to its module; `FormatError` is what a
reader raises for a file it cannot read (a Vietnamese sentence, with `line` or `row`)."""

from __future__ import annotations

from types import ModuleType

from . import pain001, pain002, provider_xlsx
from .errors import FormatError

FORMATS: dict[str, ModuleType] = {
    "pain.001": pain001,
    "pain.002": pain002,
    "xlsx": provider_xlsx,
}

__all__ = ["FORMATS", "FormatError", "pain001", "pain002", "provider_xlsx"]
