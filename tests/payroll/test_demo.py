"""The demo's payment cycles and contracts: loaded idempotently on the demo's organisations."""

from __future__ import annotations

from datetime import date

import pytest

from ansinh.areas.models import CURRENT_START, LEGACY_END, Area, Level, Tree
from ansinh.demo import organisations
from ansinh.payroll.demo import DEMO_PERCENT_BASIS_POINTS, PILOT_FLAT_FEE, load_demo_cycles
from ansinh.payroll.models import FeeKind, PaymentCycle, ProviderContract


@pytest.fixture
def demo_orgs(policy):
    legacy = Area.objects.create(
        tree=Tree.LEGACY, level=Level.PROVINCE, code="89", name="An Giang", valid_to=LEGACY_END
    )
    for code, name in organisations.PILOT_DISTRICTS.items():
        district = Area.objects.create(
            tree=Tree.LEGACY,
            level=Level.DISTRICT,
            code=code,
            name=name,
            division_type="Thành phố",
            parent=legacy,
            valid_to=LEGACY_END,
        )
        Area.objects.create(
            tree=Tree.LEGACY, level=Level.COMMUNE, code=f"{code}1", name="Xã", parent=district, valid_to=LEGACY_END
        )
    current = Area.objects.create(
        tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang", valid_from=CURRENT_START
    )
    for code in organisations.CURRENT_PILOT_COMMUNES:
        Area.objects.create(
            tree=Tree.CURRENT,
            level=Level.COMMUNE,
            code=code,
            name=f"Xã {code}",
            division_type="Phường",
            parent=current,
            valid_from=CURRENT_START,
        )
    organisations.load_organisations()
    organisations.load_current_organisations()


def test_demo_cycles_and_contracts(demo_orgs):
    today = date(2026, 12, 2)
    first = load_demo_cycles(today=today)
    communes = len(organisations.CURRENT_PILOT_COMMUNES)
    assert first["contracts_created"] == len(organisations.PILOT_DISTRICTS) + communes
    assert first["cycles"]["approving_units"] == communes
    assert PaymentCycle.objects.filter(month=date(2026, 12, 1), state="open").count() == first["cycles"]["cycles"]
    pilot = ProviderContract.objects.filter(valid_from=date(2023, 7, 1))
    assert {(c.fee_kind, c.fee_flat, c.valid_to) for c in pilot} == {(FeeKind.FLAT, PILOT_FLAT_FEE, date(2023, 12, 31))}
    current = ProviderContract.objects.filter(valid_from=date(2026, 1, 1))
    assert {(c.fee_kind, c.fee_basis_points) for c in current} == {(FeeKind.PERCENT, DEMO_PERCENT_BASIS_POINTS)}
    assert all("MINH HỌA" in c.note for c in current)
    again = load_demo_cycles(today=today)
    assert again["contracts_created"] == 0 and again["cycles"]["cycles_created"] == 0
