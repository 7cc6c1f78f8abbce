"""Demo payment cycles and provider contracts (An Giang). Idempotent.

- The 2023 pilot contract of each pilot district office (Châu Đốc 884, Tịnh Biên 890) with its
  post office: the second half of 2023 (a six-month contract, as the plan says), 5,000 đồng per
  beneficiary paid per month (plan 360/KH-UBND).
- Since 2024 the fee is a percentage of the amount paid set by each province. DEMO DATA: the
  figure used here, 150 basis points (1.5 %), is invented for the demo, not An Giang's decision;
  one contract a year between each current pilot commune's People's Committee and Bưu điện tỉnh
  An Giang.
- The cycles of the current month for the current province (91) are opened."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from ansinh.accounts.models import Function, OrgKind, OrgUnit, Responsibility
from ansinh.areas.models import Area, Level, Tree

from .models import ContractPurpose, FeeKind, ProviderContract
from .services import ContractInput, create_contract, open_cycles

DEMO_PERCENT_BASIS_POINTS = 150  # demo value, not a published rate
PILOT_FLAT_FEE = 5_000  # đồng per beneficiary paid per month, An Giang 2023 (plan 360/KH-UBND)
WRONG_PAYMENTS = (
    "Bưu điện phối hợp với UBND cấp xã rà soát, thu hồi khoản chi sai chế độ và chuyển trả vào tài khoản "
    "của đơn vị chi trả trước ngày 20 tháng sau (dữ liệu minh họa)."
)


def _province(tree: str, code: str) -> Area | None:
    return Area.objects.filter(tree=tree, code=code, level=Level.PROVINCE).first()


def _contract(data: ContractInput) -> bool:
    exists = ProviderContract.objects.filter(
        paying_unit=data.paying_unit, purpose=data.purpose, valid_from=data.valid_from
    ).exists()
    if not exists:
        create_contract(actor=None, data=data)
    return not exists


def _pilot_contracts() -> int:
    """2023: each district office with its district post office."""
    made = 0
    offices = Responsibility.objects.filter(
        function=Function.APPROVE, area__tree=Tree.LEGACY, org_unit__kind=OrgKind.APPROVING_OFFICE
    ).select_related("org_unit__area", "area")
    for resp in offices:
        post = OrgUnit.objects.filter(kind=OrgKind.PROVIDER, area=resp.org_unit.area).first()
        if post is None:
            continue
        made += _contract(
            ContractInput(
                number=f"HĐ-{resp.area.code}/2023",
                paying_unit=resp.org_unit,
                provider=post,
                areas=[resp.area],
                purpose=ContractPurpose.REGULAR,
                valid_from=date(2023, 7, 1),
                valid_to=date(2023, 12, 31),
                signed_on=date(2023, 6, 26),
                fee_kind=FeeKind.FLAT,
                fee_flat=PILOT_FLAT_FEE,
                wrong_payments=WRONG_PAYMENTS,
                note="Dữ liệu minh họa theo Kế hoạch 360/KH-UBND (hợp đồng 6 tháng cuối năm 2023).",
            )
        )
    return made


def _current_contracts(year: int) -> int:
    """Since the reform: each commune that approves, with the post office paying there."""
    made = 0
    approving = Responsibility.objects.filter(function=Function.APPROVE, area__tree=Tree.CURRENT).select_related(
        "org_unit__area", "area"
    )
    for resp in approving:
        pay = (
            Responsibility.objects.filter(function=Function.PAY, area=resp.area, org_unit__kind=OrgKind.PROVIDER)
            .select_related("org_unit")
            .first()
        )
        if pay is None:
            continue
        made += _contract(
            ContractInput(
                number=f"HĐ-{resp.area.code}/{year}",
                paying_unit=resp.org_unit,
                provider=pay.org_unit,
                areas=[resp.area],
                purpose=ContractPurpose.REGULAR,
                valid_from=date(year, 1, 1),
                valid_to=date(year, 12, 31),
                signed_on=date(year - 1, 12, 20),
                fee_kind=FeeKind.PERCENT,
                fee_basis_points=DEMO_PERCENT_BASIS_POINTS,
                wrong_payments=WRONG_PAYMENTS,
                note="DỮ LIỆU MINH HỌA: mức phí 1,5% số tiền chi trả là giả định, không phải quyết định của tỉnh.",
            )
        )
    return made


@transaction.atomic
def load_demo_cycles(today: date | None = None) -> dict:
    today = today or timezone.localdate()
    contracts = _pilot_contracts() + _current_contracts(today.year)
    province = _province(Tree.CURRENT, "91")
    cycles = open_cycles(actor=None, month=today.replace(day=1), area=province) if province else {}
    return {"contracts_created": contracts, "cycles": cycles}
