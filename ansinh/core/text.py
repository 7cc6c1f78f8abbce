"""Vietnamese text normalisation: names in NFC with tidy spacing and case, accent-free keys."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize_name(value: str) -> str:
    """NFC, single spaces, each word capitalised ('  nguyễn  THỊ ánh ' -> 'Nguyễn Thị Ánh')."""
    value = unicodedata.normalize("NFC", value or "")
    value = _SPACES.sub(" ", value).strip()
    return " ".join(word[:1].upper() + word[1:].lower() for word in value.split(" ")) if value else ""


def strip_accents(value: str) -> str:
    """Remove Vietnamese diacritics; đ/Đ become d/D (decomposition alone keeps the stroke)."""
    value = (value or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", value)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def search_key(value: str) -> str:
    """Accent-free, lower-case, single-spaced key: 'Nguyễn Thị Ánh' -> 'nguyen thi anh'."""
    return _SPACES.sub(" ", strip_accents(unicodedata.normalize("NFC", value or "")).lower()).strip()


def phone_display(phone: str) -> str:
    """A stored E.164 Vietnamese number as people write it: +84912345678 -> 0912 345 678."""
    if not phone.startswith("+84"):
        return phone
    national = "0" + phone[3:]
    return f"{national[:4]} {national[4:7]} {national[7:]}".strip()
