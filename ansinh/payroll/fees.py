"""The provider's service fee under a contract (hợp đồng chi trả). Integer đồng, never float.

- flat: the contract's amount per beneficiary paid per month × the beneficiaries paid (5,000 đồng
  in An Giang in 2023); exact.
- percent: the amount paid × basis points / 10,000 (150 basis points = 1.5 %), rounded once to
  whole đồng half away from zero by the one rounding helper (`ansinh.core.money.to_dong`).

Nothing is due for lines not paid: the caller passes what was actually paid. The fee a payroll
shows before payment is an expectation; the one computed at settlement counts."""

from __future__ import annotations

from decimal import Decimal

from ansinh.core.money import to_dong

from .models import FeeKind, ProviderContract


def fee_for(contract: ProviderContract, beneficiaries_paid: int, amount_paid: int) -> int:
    for name, value in (("beneficiaries_paid", beneficiaries_paid), ("amount_paid", amount_paid)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int")
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if contract.fee_kind == FeeKind.FLAT:
        return int(contract.fee_flat) * beneficiaries_paid
    if contract.fee_kind == FeeKind.PERCENT:
        return to_dong(Decimal(amount_paid) * Decimal(int(contract.fee_basis_points)) / Decimal(10_000))
    raise ValueError(f"unknown fee rule {contract.fee_kind!r}")
