"""Fixtures and helpers of the receipt, closing and withdrawal tests: commune A's funded cycle
with its pay point, route and cash lists (`cash_places`, `cash_lists` of tests/cashout/conftest.py)
as `places` and `lists` (by kind), people's CCCDs and representatives."""

from __future__ import annotations

from datetime import date

import pytest

from ansinh.cashout.models import (
    CashEntry,
    CashListKind,
)
from ansinh.registry.models import Representation, Representative
from tests.factories import cccd_for

BIRTH = date(1940, 5, 17)


def give_cccd(b, tail: str) -> str:
    b.cccd = cccd_for(BIRTH, "male", tail)
    b.save(update_fields=["cccd"])
    return b.cccd


def add_representative(b, name="Lê Văn Đại Diện", tail="777777", kind="authorised", cccd=True):
    rep = Representative.objects.create(
        full_name=name,
        birth_date=date(1975, 3, 4),
        gender="male",
        cccd=cccd_for(date(1975, 3, 4), "male", tail) if cccd else "",
        commune=b.commune,
        area_path=b.commune.path,
    )
    return Representation.objects.create(beneficiary=b, representative=rep, kind=kind, relationship="Con")


@pytest.fixture(name="places")
def places_fixture(cash_places):
    """Commune A's pay point and home-delivery route (tests/cashout/conftest.py)."""
    return cash_places


@pytest.fixture(name="lists")
def lists_fixture(cash_lists):
    """The cycle's two cash lists, built by `lists.build_cash_lists` (tests/cashout/conftest.py)."""
    by_kind = {cl.kind: cl for cl in cash_lists}
    return {"pay_point": by_kind[CashListKind.PAY_POINT], "home": by_kind[CashListKind.HOME]}


def entry_of(cash_list, name: str) -> CashEntry:
    return CashEntry.objects.get(cash_list=cash_list, beneficiary__full_name=name)
