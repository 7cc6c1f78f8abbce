"""Small hand-computed worlds for the statutory reports, built with direct model rows (the
services from change list to credited transfer are too heavy for the dozens of lines a case
needs; the reports read only beneficiaries, receiving accounts, cycles, payroll lines,
transfer instructions and payouts, which are made here as the services leave them).

Legacy tree (the `tree` fixture): province 89 → district 884 Châu Đốc → communes A, B; here
also district 890 Tịnh Biên → commune C. Current tree: province 91 → communes X (successor of
A) and Y."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from ansinh.accounts.models import OrgKind, OrgUnit
from ansinh.areas.models import Area, Level, Tree
from ansinh.disbursement.models import Instruction, InstructionState, Payout, ProviderBatch
from ansinh.payments import crypto
from ansinh.payments.models import Institution, ReceivingAccount
from ansinh.payroll.models import Channel, CycleState, LineType, PaymentCycle, PayrollLine, ProviderContract
from ansinh.policy.models import Programme
from ansinh.registry.models import Beneficiary

_seq = itertools.count(1)


class World:
    def __init__(self, tree):
        self.tree = tree
        self.province, self.chau_doc, self.a, self.b = tree.province, tree.district, tree.a, tree.b
        self.tinh_bien = Area.objects.create(
            tree=Tree.LEGACY,
            level=Level.DISTRICT,
            code="890",
            name="Tịnh Biên",
            division_type="Thị xã",
            parent=self.province,
        )
        self.c = Area.objects.create(
            tree=Tree.LEGACY,
            level=Level.COMMUNE,
            code="30316",
            name="Nhà Bàng",
            division_type="Phường",
            parent=self.tinh_bien,
        )
        self.current = Area.objects.create(
            tree=Tree.CURRENT, level=Level.PROVINCE, code="91", name="An Giang", division_type="Tỉnh"
        )
        self.x = Area.objects.create(
            tree=Tree.CURRENT,
            level=Level.COMMUNE,
            code="30280",
            name="Châu Đốc",
            division_type="Phường",
            parent=self.current,
        )
        self.y = Area.objects.create(
            tree=Tree.CURRENT,
            level=Level.COMMUNE,
            code="30316",
            name="Tịnh Biên",
            division_type="Phường",
            parent=self.current,
        )
        self.programme = Programme.objects.order_by("pk").first() or Programme.objects.create(code="TGXH", name="TGXH")
        self.post = OrgUnit.objects.create(kind=OrgKind.PROVIDER, name="Bưu điện An Giang", area=self.province)
        self.institution, _ = Institution.objects.get_or_create(
            code="NAB",
            defaults={"bin": "970428", "name": "Nam A Bank", "number_min_length": 8, "number_max_length": 19},
        )
        self.cycles: dict[tuple[int, date], PaymentCycle] = {}
        self.batches: dict[int, ProviderBatch] = {}

    # --- people and accounts
    def person(self, commune, *, start=date(2023, 1, 1), end=None, legacy=None, name="Nguyễn Thị Ánh"):
        return Beneficiary.objects.create(
            full_name=name,
            birth_date=date(1940, 5, 17),
            gender="female",
            commune=commune,
            legacy_commune=legacy,
            area_path=commune.path,
            start_month=start,
            end_month=end,
        )

    def account(self, b, opened_on, status="active"):
        number = f"{next(_seq):012d}"
        return ReceivingAccount.objects.create(
            beneficiary=b,
            kind="bank",
            institution=self.institution,
            number_encrypted=crypto.encrypt(number),
            number_hash=crypto.number_hash(number),
            last4=number[-4:],
            holder_name=b.full_name.upper(),
            status=status,
            opened_on=opened_on,
        )

    # --- cycles, lines, transfers
    def cycle(self, area, month, state=CycleState.SETTLED):
        key = (area.pk, month)
        if key not in self.cycles:
            unit, _ = OrgUnit.objects.get_or_create(
                kind=OrgKind.APPROVING_OFFICE, name=f"Phòng LĐTBXH {area.name}", area=area
            )
            self.cycles[key] = PaymentCycle.objects.create(
                approving_unit=unit, programme=self.programme, month=month, area=area, area_path=area.path, state=state
            )
        return self.cycles[key]

    def line(self, cycle, b, amount, *, commune=None, line_type=LineType.REGULAR, channel=Channel.ACCOUNT):
        commune = commune or b.legacy_commune or b.commune
        return PayrollLine.objects.create(
            cycle=cycle,
            beneficiary=b,
            line_type=line_type,
            amount=amount,
            payee_name=b.full_name,
            channel=channel,
            area_path=commune.path,
            commune=commune,
        )

    def batch(self, cycle):
        if cycle.pk not in self.batches:
            contract = ProviderContract.objects.filter(paying_unit=cycle.approving_unit).first()
            contract = contract or ProviderContract.objects.create(
                number=f"HĐ-{cycle.pk}",
                paying_unit=cycle.approving_unit,
                provider=self.post,
                area_path=cycle.area_path,
                purpose="regular",
                valid_from=date(2023, 1, 1),
                valid_to=date(2030, 12, 31),
                fee_kind="flat",
            )
            self.batches[cycle.pk] = ProviderBatch.objects.create(
                cycle=cycle,
                provider=self.post,
                contract=contract,
                message_id=f"MSG{next(_seq)}",
                approval_hash="x" * 64,
                area_path=cycle.area_path,
                created_at=datetime(2023, 7, 1, tzinfo=UTC),
            )
        return self.batches[cycle.pk]

    def instruction(self, line, state, amount=None):
        account = line.beneficiary.receiving_accounts.first() or self.account(line.beneficiary, date(2023, 7, 1))
        return Instruction.objects.create(
            batch=self.batch(line.cycle),
            line=line,
            end_to_end_id=f"E2E{next(_seq)}",
            amount=amount or line.amount,
            creditor_name=line.payee_name,
            account=account,
            institution_code="NAB",
            institution_bin="970428",
            account_last4=account.last4,
            remittance="TCXH",
            state=state,
            commune=line.commune,
            area_path=line.area_path,
        )

    def paid(self, line, *, on=None, instruction=None, cash=False):
        """The line paid: through an account (a credited instruction) or in cash."""
        on = on or datetime(line.cycle.month.year, line.cycle.month.month, 8, 3, tzinfo=UTC)
        if cash:
            return Payout.objects.create(
                line=line, channel="cash", amount=line.amount, paid_at=on, area_path=line.area_path
            )
        instruction = instruction or self.instruction(line, InstructionState.CREDITED)
        return Payout.objects.create(
            line=line,
            channel="account",
            instruction=instruction,
            amount=line.amount,
            paid_at=on,
            area_path=line.area_path,
        )


@pytest.fixture
def world(tree, policy):
    return World(tree)
