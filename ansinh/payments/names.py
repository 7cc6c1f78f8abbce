"""The holder-name check: the name the bank shows against the holder's registered name,
insensitive to diacritics, case and word order (rapidfuzz token-sort ratio, 0–100)."""

from rapidfuzz import fuzz

from ansinh.core.text import search_key, strip_accents

# Strong: the same words once diacritics, case and order are set aside (score 100). Anything
# else goes to a person, however close: in Vietnamese one letter makes another name (An, Anh, Ân
# score 96 against each other in a three-word name), and a dropped middle name scores about 83.
STRONG_MATCH = 100


def bank_form(name: str) -> str:
    """A name as banks print it: upper case, no diacritics ('Nguyễn Thị Ánh' -> 'NGUYEN THI ANH')."""
    return " ".join(strip_accents(name or "").upper().split())


def name_score(holder_name: str, registered_name: str) -> int:
    return round(fuzz.token_sort_ratio(search_key(holder_name), search_key(registered_name)))


def is_strong(score: int) -> bool:
    return score >= STRONG_MATCH
