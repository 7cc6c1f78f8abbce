"""The demo's account approvals: lanhdao.phong's authenticator has the documented secret, and a few
changes (one held by a representative, one with a name to confirm) wait in Phường Châu Đốc."""

import time
from base64 import b32decode
from io import StringIO

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP

from ansinh.accounts import otp
from ansinh.accounts.models import User
from ansinh.demo import registry as demo_registry
from ansinh.demo.management.commands import load_demo as load_demo_command
from ansinh.payments import services
from ansinh.payments.demo_approvals import DEMO_TOTP_SECRET, load_demo_account_changes
from ansinh.payments.models import AccountChange, ChangeStatus


def _a_guardian_in_chau_doc():
    """The small demo may have no representative in the commune: give one person a guardian."""
    from datetime import date

    from ansinh.areas.models import Area, Tree
    from ansinh.payments.demo_approvals import _candidates
    from ansinh.registry import services as registry_services
    from ansinh.registry.inputs import PersonInput, RepresentationInput

    b = _candidates(Area.objects.get(tree=Tree.CURRENT, code="30316")).last()
    if not b.representations.filter(ended_at__isnull=True).exists():
        registry_services.add_representation(
            actor=None,
            beneficiary=b,
            data=RepresentationInput(
                person=PersonInput(full_name="Lý Văn Giám", birth_date=date(1970, 1, 1), gender="male"),
                kind="guardian",
                relationship="con",
            ),
        )


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(demo_registry, "DEMO_TARGETS", {"884": 40, "890": 4})
    # load_demo makes the changes itself; here the test makes them after giving someone a guardian
    monkeypatch.setattr(load_demo_command, "load_demo_account_changes", lambda: {})
    # the small demo's openings would give everyone in the commune an account
    monkeypatch.setattr(load_demo_command, "load_demo_openings", lambda: {})
    monkeypatch.setattr(load_demo_command, "load_demo_cycles", lambda: {})  # tests/payroll/test_demo.py
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def test_demo_changes_wait_for_the_demo_approver(demo, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    _a_guardian_in_chau_doc()
    first = load_demo_account_changes()
    again = load_demo_account_changes()
    awaiting = AccountChange.objects.filter(status=ChangeStatus.AWAITING, beneficiary__commune__code="30316")
    assert 3 <= awaiting.count() <= 5
    assert again["changes_created"] == 0 and again["awaiting"] == awaiting.count() >= first["changes_created"]
    assert awaiting.filter(account__holder_representation__isnull=False).exists()
    approver = User.objects.get(username="lanhdao.phong")
    totp = TOTP(b32decode(DEMO_TOTP_SECRET))
    totp.time = time.time()
    token = f"{totp.token():06d}"
    assert otp.has_device(approver)
    approvable = [c for c in awaiting if not services.activation_blockers(c.account)]
    assert services.approve_account_changes(actor=approver, changes=approvable[:1], token=token) == 1
