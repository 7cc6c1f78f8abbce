"""The official ISO 20022 schemas of the two messages (ansinh/disbursement/schemas/), loaded
once and checked against their published SHA-256 (a schema edited by hand would silently accept
files a bank refuses)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from lxml import etree

NS = {
    "pain.001": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
    "pain.002": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10",
    "camt.053": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
}

SHA256 = {
    "pain.001.001.09": "de038b373e47b0077b1832ddd81f4b2f1eb25d35721f62da1e38b7f5a09fda24",
    "pain.002.001.10": "2f9f8d0e9891fa9f31ccf0576397afe501614384d688ae6e43ba694b3d24b0cf",
    # the bank statement of the provider's funded account (ansinh.reconciliation.camt053)
    "camt.053.001.08": "338e9cb0c9989b5181802a7b773eece070d6815fc9d6483ac0579117bc24ccba",
}

DIRECTORY = Path(__file__).resolve().parent.parent / "schemas"


@functools.cache
def schema(name: str) -> etree.XMLSchema:
    """The XMLSchema of "pain.001.001.09" or "pain.002.001.10"; RuntimeError if the file on disk
    is not the official one."""
    if name not in SHA256:
        raise KeyError(name)
    data = (DIRECTORY / f"{name}.xsd").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[name]:
        raise RuntimeError(f"{name}.xsd has SHA-256 {digest}, expected {SHA256[name]}: the schema file was changed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(data, parser=parser))
