"""Provider contracts: parties and rules checked by the service; no two contracts of a paying
unit for the same purpose in force on the same day (and on PostgreSQL the database agrees)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from ansinh.audit.models import AuditEvent
from ansinh.payroll import services
from ansinh.payroll.models import ContractPurpose, FeeKind, PaymentCycle, ProviderContract

from .conftest import MONTH


def data(world, **over) -> services.ContractInput:
    values = {
        "number": "HĐ-01/2026",
        "paying_unit": world.unit_a,
        "provider": world.post,
        "areas": [world.tree.a],
        "purpose": ContractPurpose.REGULAR,
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2026, 12, 31),
        "fee_kind": FeeKind.PERCENT,
        "fee_basis_points": 150,
    }
    return services.ContractInput(**(values | over))


def test_a_contract_is_recorded_and_audited(world, preparer_a):
    c = services.create_contract(actor=preparer_a, data=data(world))
    assert list(c.areas.all()) == [world.tree.a] and c.area_path == world.tree.a.path
    assert c.channels == ["account", "pay_point", "home"]
    event = AuditEvent.objects.get(action="payroll.contract.created")
    assert event.after["fee_basis_points"] == 150 and event.actor == preparer_a


def test_overlapping_contracts_of_the_same_unit_and_purpose_are_refused(world):
    services.create_contract(actor=None, data=data(world))
    with pytest.raises(ValidationError) as refused:
        services.create_contract(actor=None, data=data(world, number="HĐ-02", valid_from=date(2026, 12, 31)))
    assert "valid_from" in refused.value.message_dict
    # another purpose, or the next period, is fine
    services.create_contract(actor=None, data=data(world, number="HĐ-MT", purpose=ContractPurpose.FUNERAL_EMERGENCY))
    services.create_contract(
        actor=None, data=data(world, number="HĐ-2027", valid_from=date(2027, 1, 1), valid_to=date(2027, 12, 31))
    )
    assert ProviderContract.objects.count() == 3


@pytest.mark.parametrize(
    "over, field",
    [
        ({"provider": "unit_b"}, "provider"),
        ({"paying_unit": "post"}, "paying_unit"),
        ({"valid_to": date(2025, 12, 31)}, "valid_to"),
        ({"fee_kind": FeeKind.FLAT, "fee_flat": 5000, "fee_basis_points": 10}, "fee_flat"),
        ({"fee_basis_points": 10_001}, "fee_basis_points"),
        ({"covers_account": False, "covers_pay_point": False, "covers_home": False}, "covers_account"),
        ({"areas": "b"}, "areas"),
        ({"number": "  "}, "number"),
    ],
)
def test_the_rules_of_a_contract(world, over, field):
    resolved = {}
    for k, v in over.items():
        if v in ("unit_b", "post"):
            v = getattr(world, v)
        elif v == "b":
            v = [world.tree.b]
        resolved[k] = v
    with pytest.raises(ValidationError) as refused:
        services.create_contract(actor=None, data=data(world, **resolved))
    assert field in refused.value.message_dict


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's")
def test_the_database_refuses_an_overlap_too(world):
    c = services.create_contract(actor=None, data=data(world))
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderContract.objects.create(
            number="HĐ-X",
            paying_unit=c.paying_unit,
            provider=c.provider,
            area_path=c.area_path,
            purpose=c.purpose,
            valid_from=date(2026, 6, 1),
            valid_to=date(2027, 5, 31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
        )


def test_the_contract_in_force_is_found_for_a_cycle(world):
    services.open_cycles(actor=None, month=MONTH)
    cycle = PaymentCycle.objects.filter(approving_unit=world.unit_a).first()
    assert services.contract_for(cycle) is None
    c = services.create_contract(actor=None, data=data(world))
    assert services.contract_for(cycle) == c
    assert services._contract_in_force(cycle) is None
