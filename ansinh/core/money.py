"""Money is whole đồng (VND has no minor unit). Coefficients are Decimal. Never float."""

from decimal import ROUND_HALF_UP, Decimal

Dong = int


def to_dong(value: Decimal | int) -> Dong:
    """Round a Decimal amount to whole đồng, half away from zero. The one rounding helper."""
    if isinstance(value, bool):
        raise TypeError("booleans are not money")
    if isinstance(value, int):
        return value
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be int or Decimal, not {type(value).__name__}")
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def multiply(amount: Dong, coefficient: Decimal) -> Dong:
    """amount × coefficient, rounded once to whole đồng."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("amount must be whole đồng (int)")
    return to_dong(Decimal(amount) * Decimal(coefficient))


def format_vnd(amount: Dong) -> str:
    """1234567 -> '1.234.567 ₫' (Vietnamese grouping)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", ".") + " ₫"
