"""Fixtures of the statement and check tests: commune A's cycle of March 2026
(tests/disbursement/conftest.py: four account holders, one paid in cash, advance "KB-001"),
its transfers sent to the sandbox bank (no delays), so that the sandbox's books hold what it
credited."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from ansinh.disbursement import batches, sandbox, sending
from ansinh.disbursement.bank import SandboxBank
from ansinh.disbursement.models import ProviderBatch
from ansinh.reconciliation import sandbox as statement_sandbox
from tests.disbursement.conftest import (  # noqa: F401
    _no_throttle_wait,
    approved,
    contract,
    funded,
    people,
)
from tests.payroll.conftest import approver_a, preparer_a, provider_a, world  # noqa: F401

# the sandbox bank credits at the moment it answers: the statements run from the cycle's month to
# tomorrow (a run that crosses midnight in Vietnam still covers the day of the credits)
START, END = date(2026, 3, 1), timezone.localdate() + timedelta(days=1)


@pytest.fixture
def sent(funded, preparer_a):  # noqa: F811
    """The funded cycle with its batch sent and answered by the sandbox bank (without its seeded
    failures: only the cases the fixtures set up fail)."""
    batches.build_batches(actor=preparer_a, cycle=funded)
    batch = ProviderBatch.objects.get(cycle=funded)
    sending.submit_batch(
        actor=preparer_a, batch=batch, bank=SandboxBank(sandbox.Options(delays=False, random_failures=False))
    )
    funded.refresh_from_db()
    return funded


def statement_bytes(contract, returns_per_mille: int = 0, start=START, end=END) -> bytes:  # noqa: F811
    out = io.BytesIO()
    statement_sandbox.write_statement(
        out,
        contract=contract,
        start=start,
        end=end,
        options=statement_sandbox.Options(returns_per_mille=returns_per_mille),
    )
    return out.getvalue()
