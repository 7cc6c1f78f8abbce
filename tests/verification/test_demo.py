"""The demo's synthetic population register and first verification runs (load_demo's hook)."""

from io import StringIO

import pytest
from django.core.management import call_command

from ansinh.demo import registry as demo_registry
from ansinh.demo.management.commands import load_demo as load_demo_command
from ansinh.registry.models import Beneficiary, Representative
from ansinh.verification.demo import load_demo_verification
from ansinh.verification.models import SyntheticResident, VerificationResult, VerificationRun


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(demo_registry, "DEMO_TARGETS", {"884": 6, "890": 4})
    # the payment cycles' history is not this test's subject (tests/payroll/test_demo.py)
    monkeypatch.setattr(load_demo_command, "load_demo_cycles", lambda: {})
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def test_load_demo_builds_the_register_and_runs_each_commune_once(demo):
    with_cccd = Beneficiary.objects.exclude(cccd="").count() + Representative.objects.exclude(cccd="").count()
    assert 0 < SyntheticResident.objects.count() <= with_cccd
    communes = set(Beneficiary.objects.values_list("commune_id", flat=True))
    assert set(VerificationRun.objects.values_list("commune_id", flat=True)) == communes
    assert VerificationResult.objects.exists()
    assert not VerificationRun.objects.filter(started_by__isnull=False).exists()

    before = (SyntheticResident.objects.count(), VerificationRun.objects.count(), VerificationResult.objects.count())
    assert load_demo_verification() == {"residents": 0, "runs": 0}
    call_command("load_demo", "--quiet-logins", stdout=StringIO())
    after = (SyntheticResident.objects.count(), VerificationRun.objects.count(), VerificationResult.objects.count())
    assert after == before
