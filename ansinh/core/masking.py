"""Masking of identity and account numbers in lists, exports and the audit log."""

from typing import Any

SENSITIVE_KEYS = ("cccd", "account_number", "id_number", "identity_number", "token", "password", "secret")


def mask_number(value: str | None, visible: int = 4) -> str:
    """'001095012345' -> '********2345'."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]


def is_sensitive_key(key: str) -> bool:
    key = key.lower()
    return any(part in key for part in SENSITIVE_KEYS)


def mask_mapping(data: Any) -> Any:
    """Recursively mask the values of sensitive keys in a JSON-like structure."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if is_sensitive_key(str(key)) and value not in (None, ""):
                out[key] = mask_number(str(value)) if not isinstance(value, (dict, list)) else mask_mapping(value)
            else:
                out[key] = mask_mapping(value)
        return out
    if isinstance(data, list):
        return [mask_mapping(v) for v in data]
    return data
