"""Vietnamese text normalisation: names in NFC with tidy spacing and case, accent-free keys."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize_name(value: str) -> str:
    """NFC, single spaces, each word capitalised ('  nguyễn  THỊ ánh ' -> 'Nguyễn Thị Ánh')."""
    value = unicodedata.normalize("NFC", value or "")
    value = _SPACES.sub(" ", value).strip()
    return " ".join(word[:1].upper() + word[1:].lower() for word in value.split(" ")) if value else ""


class _NonSpacingMarks(dict):
    """A `str.translate` table that deletes the non-spacing marks (category Mn) and keeps every
    other character, filled as characters are met (the translation runs in C; a character's
    category is looked up once per process)."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.category(chr(code)) == "Mn" else code
        self[code] = value
        return value


_DROP_MARKS = _NonSpacingMarks()


def strip_accents(value: str) -> str:
    """Remove Vietnamese diacritics; đ/Đ become d/D (decomposition alone keeps the stroke)."""
    value = (value or "").replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFD", value).translate(_DROP_MARKS)


def search_key(value: str) -> str:
    """Accent-free, lower-case, single-spaced key: 'Nguyễn Thị Ánh' -> 'nguyen thi anh'."""
    return _SPACES.sub(" ", strip_accents(unicodedata.normalize("NFC", value or "")).lower()).strip()


def phone_display(phone: str) -> str:
    """A stored E.164 Vietnamese number as people write it: +84912345678 -> 0912 345 678."""
    if not phone.startswith("+84"):
        return phone
    national = "0" + phone[3:]
    return f"{national[:4]} {national[4:7]} {national[7:]}".strip()


# Vietnamese letter order (a ă â b c d đ e ê … o ô ơ … u ư …); digits first. Each letter maps to
# one printable ASCII character in that order, so the key sorts right byte by byte (the "C"
# collation on PostgreSQL, BINARY on SQLite).
_LETTERS = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_CODES = {letter: chr(0x30 + i) for i, letter in enumerate(_LETTERS)}
# the marks that make a letter of its own (on the base letter of NFD)
_LETTER_MARKS = {("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê", ("o", "\u0302"): "ô"}
_LETTER_MARKS |= {("o", "\u031b"): "ơ", ("u", "\u031b"): "ư"}
# tones in dictionary order: none, huyền, hỏi, ngã, sắc, nặng
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_UNKNOWN = "~"
SORT_KEY_LENGTH = 200  # a letter outside the Vietnamese alphabet: after every letter


def _word_key(word: str) -> str:
    """One syllable: its letters in Vietnamese order, then its tone (a character below every
    letter code, so 'Hà' < 'Hai' as in dictionaries: the letters decide first, the tone next)."""
    letters: list[str] = []
    tone = 0
    for ch in unicodedata.normalize("NFD", word.replace("đ", "d\u0111").replace("Đ", "d\u0111")):
        if unicodedata.category(ch) == "Mn":
            if ch in _TONES:
                tone = _TONES[ch]
            elif letters and (letters[-1], ch) in _LETTER_MARKS:
                letters[-1] = _LETTER_MARKS[(letters[-1], ch)]
            continue
        if ch == "\u0111":  # the stroke of đ, put after its "d" above
            letters[-1] = "đ"
            continue
        ch = ch.lower()
        if ch.isalnum():
            letters.append(ch)
    return "".join(_LETTER_CODES.get(ch, _UNKNOWN) for ch in letters) + chr(0x21 + tone)


def name_sort_key(full_name: str) -> str:
    """The order of Vietnamese name lists: by the given name (the last word), then the rest of
    the name from the family name on, letter by letter in Vietnamese order (Đ after D, Ư after
    U), the tone after the letters of each word. An ASCII string to compare byte by byte:
    'Nguyễn Văn An' < 'Trần Thị An' < 'Lê Văn Bình' < 'Phạm Thị Đào'."""
    words = [w for w in _SPACES.split(unicodedata.normalize("NFC", full_name or "").strip()) if w]
    if not words:
        return ""
    # at most SORT_KEY_LENGTH characters (Beneficiary.sort_key): a name of 150 one-letter words
    # would give 225; the first 200 order it all the same
    return " ".join(_word_key(w) for w in [words[-1], *words[:-1]])[:SORT_KEY_LENGTH]


def format_number(value: float, decimals: int = 0) -> str:
    """A number as Vietnamese write it: '.' between thousands, ',' before decimals
    (9670 -> '9.670', 12.25 with 1 decimal -> '12,2')."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
