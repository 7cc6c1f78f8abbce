"""The payment-cycle pages read as Vietnamese: no raw state or kind values, no English left."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from ansinh.accounts.roles import Role
from ansinh.payroll import services
from ansinh.payroll.models import ContractPurpose, FeeKind, PaymentCycle
from tests.conftest import make_user
from tests.web.test_vietnamese_everywhere import choice_values, english_msgids, findings, visible_text

from .conftest import MONTH


@pytest.mark.parametrize("role", [Role.COMMUNE_OFFICER, Role.OFFICE_OFFICER, Role.APPROVER, Role.PROVINCE_MONITOR])
def test_payroll_pages_are_vietnamese(world, tree, client_for, role):
    services.open_cycles(actor=None, month=MONTH)
    contract = services.create_contract(
        actor=None,
        data=services.ContractInput(
            number="HĐ-01/2026",
            paying_unit=world.unit_a,
            provider=world.post,
            areas=[tree.a],
            purpose=ContractPurpose.REGULAR,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            fee_kind=FeeKind.PERCENT,
            fee_basis_points=150,
        ),
    )
    cycle = PaymentCycle.objects.filter(approving_unit=world.unit_a).first()
    client = client_for(make_user("canbo" + str(len(role)), role, tree.a))
    urls = [
        reverse("payroll:cycles"),
        reverse("payroll:cycles") + "?month=02/2026&state=open",
        reverse("payroll:cycle", args=[cycle.pk]),
        reverse("payroll:calendar"),
        reverse("payroll:contracts"),
        reverse("payroll:contract", args=[contract.pk]),
        reverse("payroll:contract_create"),
    ]
    choices, msgids = choice_values(), english_msgids()
    problems, opened = [], 0
    with translation.override("vi"):
        for url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
            if response.status_code != 200:
                continue
            opened += 1
            problems += [
                f"{url}: {f}" for f in findings(visible_text(response.content.decode()), choices=choices, msgids=msgids)
            ]
    assert opened >= 6
    assert problems == [], "\n".join(problems)
