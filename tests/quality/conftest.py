"""A small dataset for the worklists: people of commune A registered through the registry's
services, each given one problem; what no service lets one enter (an invalid CCCD left by an old
list, two records of one person) is written to the database directly, as an old list left it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from django.utils import timezone

from ansinh.payments import services as payments
from ansinh.payments.models import Institution
from ansinh.registry import services as registry
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput
from ansinh.registry.models import Beneficiary
from ansinh.verification.models import Outcome, VerificationResult, VerificationRun
from tests.factories import cccd_for


def person_input(commune, village=None, *, full_name, birth_date, gender, tail, phone="0912345678", cccd=None):
    return BeneficiaryInput(
        full_name=full_name,
        birth_date=birth_date,
        gender=gender,
        commune_id=commune.pk,
        village_id=village.pk if village else None,
        cccd=cccd if cccd is not None else cccd_for(birth_date, gender, tail),
        phone=phone,
        categories=[CategoryInput(code="D20.5.6")],
        decision_number=f"{tail}/QĐ",
        decision_date=date(2025, 1, 10),
    )


def edit_input(b: Beneficiary, **changes) -> BeneficiaryInput:
    """The beneficiary's data as the edit form sends it back, with `changes`."""
    data = BeneficiaryInput(
        full_name=b.full_name,
        birth_date=b.birth_date,
        gender=b.gender,
        commune_id=b.commune_id,
        village_id=b.village_id,
        cccd=b.cccd,
        phone=b.phone,
        no_phone=b.no_phone,
    )
    return replace(data, **changes)


def verify(b: Beneficiary, outcome: str = Outcome.MATCH, **extra) -> VerificationResult:
    """A verification result for the beneficiary as registered now."""
    run = VerificationRun.objects.create(
        commune=b.commune,
        area_path=b.commune.path,
        run_date=timezone.localdate(),
        source="test",
        sequence=VerificationRun.objects.filter(commune=b.commune).count() + 1,
    )
    return VerificationResult.objects.create(
        run=run,
        beneficiary=b,
        area_path=b.area_path,
        full_name=b.full_name,
        cccd=b.cccd,
        outcome=outcome,
        source="test",
        checked_at=timezone.now(),
        stop_proposed=outcome == Outcome.DECEASED,
        **extra,
    )


class Maker:
    def __init__(self, tree, officer):
        self.tree, self.officer, self.n = tree, officer, 0

    def __call__(
        self,
        full_name,
        *,
        commune=None,
        birth=date(1950, 5, 17),
        gender="female",
        method=True,
        verified=True,
        phone="0912345678",
    ):
        self.n += 1
        commune = commune or self.tree.a
        village = self.tree.village_a if commune == self.tree.a else None
        b = registry.create_beneficiary(
            actor=None,
            data=person_input(
                commune,
                village,
                full_name=full_name,
                birth_date=birth,
                gender=gender,
                tail=f"{700000 + self.n}",
                phone=phone,
            ),
        )
        if method:
            payments.set_payment_method(actor=self.officer, beneficiary=b, method="pay_point", cash_reason="choice")
        if verified:
            verify(b)
        return Beneficiary.objects.select_related("commune", "village").get(pk=b.pk)


@pytest.fixture
def make(tree, policy, officer_a):
    return Maker(tree, officer_a)


@pytest.fixture
def agribank(db):
    return Institution.objects.get(code="VBA")


def account_for(b, officer, institution, *, number="760220501234567", holder_name=None, active=True):
    account = payments.register_account(
        actor=officer,
        beneficiary=b,
        kind="bank",
        institution=institution,
        number=number,
        holder_name=holder_name or b.full_name,
    )
    if active:
        account.status = "active"
        account.save(update_fields=["status"])
    return account
