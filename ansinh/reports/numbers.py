"""Vietnamese number formatting for the statutory reports (Biểu 01/02/03): thousands grouped
with '.', decimals after ',' ("1.598", "16,52", "1.093,860"), rounding half up.

Money is kept in whole đồng everywhere; the reports show it in million đồng with three
decimals (86.220.000 đ → "86,220"). The rates are percentages with two decimals, computed from
integers with `Decimal` (never floats)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MILLION = 1_000_000
RATE_PLACES = 2
MILLION_PLACES = 3


def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(_quantum(places), rounding=ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal:
    """part / whole as a percentage with two decimals, rounded half up (0,00 when whole is 0)."""
    if not whole:
        return Decimal("0.00")
    return round_half_up(Decimal(part) * 100 / Decimal(whole), RATE_PLACES)


def million(dong: int) -> Decimal:
    """Whole đồng → million đồng with three decimals, rounded half up."""
    return round_half_up(Decimal(dong) / MILLION, MILLION_PLACES)


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ".".join(parts)


def fmt_int(value: int) -> str:
    """1598 → "1.598"; -1234567 → "-1.234.567"."""
    sign = "-" if value < 0 else ""
    return sign + _group(str(abs(int(value))))


def fmt_decimal(value: Decimal | int, places: int) -> str:
    """Decimal → Vietnamese text with `places` decimals: 16.5213 → "16,52"; 1093.86 with 3
    places → "1.093,860"."""
    q = round_half_up(Decimal(value), places)
    sign = "-" if q < 0 else ""
    text = f"{abs(q):.{places}f}"
    whole, _, frac = text.partition(".")
    return sign + _group(whole) + ("," + frac if places else "")


def fmt_rate(value: Decimal) -> str:
    return fmt_decimal(value, RATE_PLACES)


def fmt_million(dong: int) -> str:
    """Whole đồng shown in million đồng: 86_220_000 → "86,220"."""
    return fmt_decimal(million(dong), MILLION_PLACES)


def parse(text: str) -> Decimal:
    """The inverse of the formatting: "1.093,860" → Decimal("1093.860"), "1.598" → 1598."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("-")
    whole, _, frac = text.partition(",")
    digits = whole.replace(".", "")
    if not digits.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a Vietnamese number: {text!r}")
    return sign * Decimal(digits + ("." + frac if frac else ""))


# Excel number formats: the format code always uses ',' for thousands and '.' for decimals; a
# Vietnamese locale displays them as '.' and ',' (1.598; 16,52; 86,220).
XLSX_INT = "#,##0"
XLSX_RATE = "#,##0.00"
XLSX_MILLION = "#,##0.000"
