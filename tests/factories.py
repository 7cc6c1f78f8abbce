"""Small builders shared by the tests."""

from datetime import date


def cccd_for(birth: date, gender: str, tail: str = "012345", province: str = "089") -> str:
    """A structurally valid CCCD for that birth date and gender (An Giang by default): province
    code, century/gender digit, two birth-year digits, six serial digits (policy-facts.md §3)."""
    century = (birth.year // 100 - 19) * 2 + (1 if gender == "female" else 0)
    return f"{province}{century}{birth.year % 100:02d}{tail}"


def import_row(**values) -> list:
    """One row of the import template, by column key (ansinh/registry/columns.py)."""
    from ansinh.registry.columns import COLUMNS

    return [values.get(c.key, "") for c in COLUMNS]


def import_xlsx(rows, path=None, headers=None):
    """An XLSX with the template's header row (or `headers`) and `rows`: saved to `path` and
    the path returned, or returned as bytes without a path."""
    import io

    from openpyxl import Workbook

    from ansinh.registry.columns import COLUMNS

    wb = Workbook()
    ws = wb.active
    ws.append(headers if headers is not None else [c.header for c in COLUMNS])
    for r in rows:
        ws.append(r)
    if path is not None:
        wb.save(path)
        return path
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
