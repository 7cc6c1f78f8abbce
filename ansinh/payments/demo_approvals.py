"""The demo's account approvals: the approver lanhdao.phong gets an authenticator device with a
fixed, documented secret (so that a visitor can add it to an app and approve), and a few changes
of receiving account wait for approval in Phường Châu Đốc (30316), asked by canbo.xa:

- the first account of people paid in cash until now (holder name as registered);
- an account held by a representative (guardian or authorised person);
- an account whose holder name does not match the registered name (approval is blocked until
  a person confirms the name).

Idempotent: run again, it adds nothing while the demo's changes are still waiting. Needs the
demo registry (load_demo) and its users."""

from __future__ import annotations

from base64 import b32decode

from django.db import transaction

from ansinh.accounts import otp
from ansinh.accounts.models import User
from ansinh.areas.models import Area, Tree
from ansinh.registry.models import Beneficiary, Status

from . import names, services
from .models import AccountChange, AccountKind, AccountStatus, ChangeStatus, Institution

# Demo only: the secret of lanhdao.phong's authenticator (base32, add it to any TOTP app: 6 digits,
# 30 seconds, SHA1). Never use a fixed secret for a real user.
DEMO_TOTP_SECRET = "ANSINHDEMOLANHDAOPHONGTOTP234567"
DEMO_APPROVER = "lanhdao.phong"
DEMO_MAKER = "canbo.xa"
DEMO_COMMUNE = "30316"
WANTED = 4


def demo_totp_key_hex() -> str:
    return b32decode(DEMO_TOTP_SECRET).hex()


def _candidates(commune: Area):
    """Receiving beneficiaries of the commune without a receiving account or a waiting change,
    in a stable order."""
    return (
        Beneficiary.objects.filter(commune=commune, status=Status.ACTIVE)
        .exclude(receiving_accounts__isnull=False)
        .exclude(account_changes__status=ChangeStatus.AWAITING)
        .select_related("commune", "village")
        .order_by("pk")
    )


@transaction.atomic
def load_demo_account_changes() -> dict:
    approver = User.objects.filter(username=DEMO_APPROVER).first()
    maker = User.objects.filter(username=DEMO_MAKER).first()
    commune = Area.objects.filter(tree=Tree.CURRENT, code=DEMO_COMMUNE).first()
    if approver is None or maker is None or commune is None:
        return {"device": False, "changes_created": 0, "awaiting": 0}
    otp.set_device(actor=None, user=approver, key_hex=demo_totp_key_hex())
    awaiting = AccountChange.objects.filter(
        beneficiary__commune=commune, status=ChangeStatus.AWAITING, requested_by=maker
    ).count()
    created = 0
    bank = Institution.objects.get(code="VBA")
    candidates = _candidates(commune)
    with_rep = candidates.filter(representations__isnull=False, representations__ended_at__isnull=True).distinct()
    plan: list[tuple[Beneficiary, str]] = []
    needed = max(0, WANTED - awaiting)
    if needed:
        rep_b = with_rep.first()
        if rep_b is not None:
            plan.append((rep_b, "representative"))
        plain = candidates.exclude(pk__in=[b.pk for b, _ in plan])[:needed]
        kinds = ["own", "weak_name", "own", "own"]
        plan += [(b, kinds[i]) for i, b in enumerate(plain)]
        plan = plan[:needed]
    for b, kind in plan:
        holder = None
        holder_name = names.bank_form(b.full_name)
        if kind == "representative":
            holder = b.representations.filter(ended_at__isnull=True).select_related("representative").first()
            holder_name = names.bank_form(holder.representative.full_name) if holder else holder_name
        elif kind == "weak_name":
            holder_name = "NGUYEN VAN KHAC"
        account = services.register_account(
            actor=maker,
            beneficiary=b,
            kind=AccountKind.BANK,
            institution=bank,
            number=f"760220{b.pk:09d}"[-13:],
            holder_name=holder_name,
            holder_representation=holder,
        )
        if account.status == AccountStatus.PENDING:
            services.request_account_change(actor=maker, beneficiary=b, account=account)
            created += 1
    return {"device": True, "changes_created": created, "awaiting": awaiting + created}
