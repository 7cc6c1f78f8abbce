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
