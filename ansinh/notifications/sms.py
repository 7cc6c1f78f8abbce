"""SMS text: the GSM 03.38 alphabet (the `gsm0338` codec) when the text fits it, Vietnamese
without diacritics when only they stand in the way (đ → d), UCS-2 otherwise; and the number of
segments the text costs.

A GSM-7 message holds 160 septets in one segment, 153 per segment when concatenated; a UCS-2
message 70 characters, 67 per segment. Characters of the GSM extension table (€, [, ] …) count
as two septets; the codec encodes them as two bytes, so the length of the encoded text is the
septet count."""

import math
from dataclasses import dataclass

import gsm0338  # type: ignore[import-untyped]  # noqa: F401  (registers the "gsm03.38" codec)

from ansinh.core.text import strip_accents

CODEC = "gsm03.38"


@dataclass(frozen=True)
class SmsText:
    text: str
    encoding: str  # "gsm7" or "ucs2"
    segments: int


# septets per character (1, 2 for the extension table, None outside the alphabet), filled as
# characters are met: a character's encoding does not depend on its neighbours, and the codec,
# written in Python, costs much more per character than a dictionary look-up
_SEPTETS: dict[str, int | None] = {}


def _char_septets(ch: str) -> int | None:
    try:
        n: int | None = len(ch.encode(CODEC))
    except UnicodeEncodeError:
        n = None
    if len(_SEPTETS) < 4096:
        _SEPTETS[ch] = n
    return n


def septets(text: str) -> int | None:
    """The GSM-7 length of `text`, None when it has a character outside the alphabet."""
    total = 0
    for ch in text:
        n = _SEPTETS[ch] if ch in _SEPTETS else _char_septets(ch)
        if n is None:
            return None
        total += n
    return total


def segments_for(length: int, *, single: int, multi: int) -> int:
    return 1 if length <= single else math.ceil(length / multi)


def prepare(text: str, *, max_segments: int, keep_diacritics: bool = False) -> SmsText:
    """The text as it will be sent. Diacritics go only when the text with them is not GSM-7 (it
    rarely is in Vietnamese) — unless `keep_diacritics` and the UCS-2 text still fits in
    `max_segments`. Raises ValueError when the text needs more than `max_segments`."""
    candidates: list[SmsText] = []
    length = septets(text)
    if length is not None:
        candidates.append(SmsText(text, "gsm7", segments_for(length, single=160, multi=153)))
    else:
        ucs2 = SmsText(text, "ucs2", segments_for(_utf16_units(text), single=70, multi=67))
        plain = strip_accents(text)
        plain_length = septets(plain)
        stripped = (
            SmsText(plain, "gsm7", segments_for(plain_length, single=160, multi=153))
            if plain_length is not None
            else None
        )
        ordered = [ucs2, stripped] if keep_diacritics else [stripped, ucs2]
        candidates = [c for c in ordered if c is not None]
    for candidate in candidates:
        if candidate.segments <= max_segments:
            return candidate
    best = min(candidates, key=lambda c: c.segments)
    raise ValueError(f"the text needs {best.segments} SMS segments, more than the limit of {max_segments}")


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
