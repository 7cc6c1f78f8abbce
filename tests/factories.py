"""Small builders shared by the tests."""

from datetime import date


def cccd_for(birth: date, gender: str, tail: str = "012345", province: str = "089") -> str:
    """A structurally valid CCCD for that birth date and gender (An Giang by default): province
    code, century/gender digit, two birth-year digits, six serial digits (policy-facts.md §3)."""
    century = (birth.year // 100 - 19) * 2 + (1 if gender == "female" else 0)
    return f"{province}{century}{birth.year % 100:02d}{tail}"
