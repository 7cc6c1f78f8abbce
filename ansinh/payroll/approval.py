"""Approving a cycle's payroll (maker-checker, issue 10 part 3) and withdrawing a draft.

- `approve_payroll`: a user holding payroll.approve in the cycle's area, who is NOT the one who
  generated the payroll (`PayrollRun.generated_by`), confirms with a current code of their
  authenticator app (django-otp, `accounts.otp`). The lines must be those the summary counted
  (count and total as in the `PayrollRun`). The approval records the content hash of the lines
  (`content_hash`, canonical form in docs/payment-cycle.md), writes what was paid
  (`adjustments.record_paid_months`), applies the recoveries (`adjustments.apply_recoveries`) and
  takes the step payroll_generated → approved through `services.transition`, whose check for that
  edge now requires the approval record: the bare step is refused.
- `withdraw_payroll`: the office takes the draft back (payroll_generated → appraised): the draft
  lines and the summary are deleted, the step is audited.

An approved payroll is immutable: `assert_mutable` (used by the services and by
`PayrollLine.save/delete`) refuses on every database, and on PostgreSQL a trigger (migration
0005) refuses INSERT, UPDATE and DELETE of the lines of a cycle that has a PayrollApproval."""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access, otp
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core.errors import DomainError

from . import adjustments
from .models import CycleState, PaymentCycle, PayrollApproval, PayrollLine, PayrollRun
from .services import TransitionForbidden, register_check, transition

S = CycleState
HASH_CHUNK = 5000
HASH_VERSION = "ansinh-payroll-v1"
HASH_FIELDS = (
    "id",
    "beneficiary_id",
    "line_type",
    "amount",
    "channel",
    "payee_name",
    "account_id",
    "account_last4",
    "months",
)


class ApprovalRefused(DomainError):
    """The payroll cannot be approved (or withdrawn) now; the message says why."""


class ApprovedPayrollImmutable(DomainError):
    """An approved payroll's lines never change."""


def is_approved(cycle_id: int) -> bool:
    return PayrollApproval.objects.filter(cycle_id=cycle_id).exists()


def assert_mutable(cycle_id: int) -> None:
    """Refuse any write of the lines of an approved payroll (every database)."""
    if is_approved(cycle_id):
        raise ApprovedPayrollImmutable(
            _(
                "This payroll is approved: its lines cannot change. Correct amounts in next month's payroll; "
                "change how a line is paid with a payment fix."
            )
        )


# --- the content hash ------------------------------------------------------------------------------


def canonical_line(row: tuple) -> bytes:
    """One line in the canonical form: a JSON array of HASH_FIELDS (UTF-8, no spaces, `months`
    with sorted keys, null for no account) followed by a newline."""
    values = list(row)
    values[-1] = values[-1] or {}
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n"


def content_hash(cycle: PaymentCycle) -> tuple[str, int, int]:
    """SHA-256 over the header `ansinh-payroll-v1|<cycle id>|<YYYY-MM>\\n` and the cycle's lines
    in ascending id order, each in `canonical_line` form; streamed (constant memory whatever the
    number of lines). Returns (hex digest, lines, total amount)."""
    digest = hashlib.sha256(f"{HASH_VERSION}|{cycle.pk}|{cycle.month:%Y-%m}\n".encode())
    lines = total = 0
    rows = PayrollLine.objects.filter(cycle_id=cycle.pk).order_by("id").values_list(*HASH_FIELDS)
    for row in rows.iterator(chunk_size=HASH_CHUNK):
        digest.update(canonical_line(row))
        lines += 1
        total += int(row[3])
    return digest.hexdigest(), lines, total


# --- checks of the edges (they replace the `_needs` placeholders) ------------------------------------


def _current_totals(cycle_id: int) -> tuple[int, int]:
    agg = PayrollLine.objects.filter(cycle_id=cycle_id).aggregate(n=Count("id"), total=Sum("amount"))
    return int(agg["n"] or 0), int(agg["total"] or 0)


def lines_changed(cycle: PaymentCycle, run: PayrollRun) -> bool:
    return _current_totals(cycle.pk) != (run.lines, run.total_amount)


def _changed_message() -> str:
    return _(
        "The payroll lines changed since the summary was made (number of lines or total differ): "
        "generate the payroll again and check it before approving."
    )


@register_check(S.PAYROLL_GENERATED, S.APPROVED)
def _approval_recorded(cycle: PaymentCycle) -> str | None:
    run = PayrollRun.objects.filter(cycle=cycle).first()
    if run is None:
        return _("Generate the payroll first (button “Generate the payroll”).")
    if lines_changed(cycle, run):
        return _changed_message()
    if not is_approved(cycle.pk):
        return _("The payroll is approved with the approval form and a code of the approver's authenticator app.")
    return None


@register_check(S.PAYROLL_GENERATED, S.APPRAISED)
def _draft_withdrawn(cycle: PaymentCycle) -> str | None:
    if PayrollRun.objects.filter(cycle=cycle).exists() or PayrollLine.objects.filter(cycle=cycle).exists():
        return _("Withdraw the draft payroll with its own button (its lines are deleted).")
    return None


# --- approving ---------------------------------------------------------------------------------------


def _user_name(user) -> str:
    if user is None:
        return _("the system")
    return getattr(user, "full_name", "") or user.get_username()


def approval_blockers(actor, cycle: PaymentCycle) -> list[str]:
    """Why `actor` may not approve the cycle's payroll (empty: they may, given a valid code)."""
    if cycle.state != S.PAYROLL_GENERATED:
        return [
            _("Only a draft payroll (state “%(state)s”) can be approved; this cycle is “%(now)s”.")
            % {"state": S.PAYROLL_GENERATED.label, "now": S(cycle.state).label}
        ]
    out = []
    if not access.can_in_area(actor, Cap.PAYROLL_APPROVE, cycle.area):
        out.append(_("Your role does not allow approving the payroll here."))
    run = PayrollRun.objects.filter(cycle=cycle).first()
    if run is None:
        out.append(_("Generate the payroll first (button “Generate the payroll”)."))
        return out
    if actor is not None and run.generated_by_id == actor.pk:
        out.append(
            _("You generated this payroll: it must be approved by a second person, never by the one who prepared it.")
        )
    if lines_changed(cycle, run):
        out.append(_changed_message())
    return out


def approve_payroll(*, actor, cycle: PaymentCycle, token: str) -> PayrollApproval:
    """Approve the cycle's payroll with a current code of the approver's device (see the module
    docstring). The code is checked outside the transaction, so a wrong code counts for
    django-otp's throttling even though nothing is written."""
    cycle = PaymentCycle.objects.select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    if not access.can_in_area(actor, Cap.PAYROLL_APPROVE, cycle.area):
        raise TransitionForbidden(_("Your role does not allow approving the payroll here."))
    blockers = approval_blockers(actor, cycle)
    if blockers:
        raise ApprovalRefused(" ".join(blockers))
    otp.require_code(
        actor, token, enrol_first=_("Enrol an authenticator app (your account page) before approving the payroll.")
    )
    return _approve(actor, cycle)


@transaction.atomic
def _approve(actor, cycle: PaymentCycle) -> PayrollApproval:
    from .generation import compare_with_previous

    cycle = (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )
    blockers = approval_blockers(actor, cycle)  # decided or regenerated since the page was read
    if blockers:
        raise ApprovalRefused(" ".join(blockers))
    run = PayrollRun.objects.get(cycle=cycle)
    digest, lines, total = content_hash(cycle)
    if (lines, total) != (run.lines, run.total_amount):
        raise ApprovalRefused(_changed_message())
    approval = PayrollApproval.objects.create(
        cycle=cycle,
        prepared_by_id=run.generated_by_id,
        approved_by=actor,
        approved_at=timezone.now(),
        lines=lines,
        total_amount=total,
        content_hash=digest,
    )
    paid_months = adjustments.record_paid_months(cycle)
    recoveries = adjustments.apply_recoveries(cycle)  # receivables recovered, funeral support paid
    comparison = compare_with_previous(cycle)
    transition(actor=actor, cycle=cycle, to_state=S.APPROVED)
    record(
        actor=actor,
        action="payroll.payroll.approved",
        obj=cycle,
        area=cycle.area,
        after={
            "month": f"{cycle.month:%Y-%m}",
            "programme": cycle.programme.code,
            "unit": cycle.approving_unit.short_name or cycle.approving_unit.name,
            "lines": lines,
            "total_amount": total,
            "content_hash": digest,
            "prepared_by": _user_name(run.generated_by),
            "paid_months": paid_months,
            "recoveries": recoveries,
            "comparison": comparison["counts"] | {"previous_lines": comparison["previous_lines"]},
        },
    )
    return approval


# --- withdrawing a draft ------------------------------------------------------------------------------


@transaction.atomic
def withdraw_payroll(*, actor, cycle: PaymentCycle, reason: str) -> PaymentCycle:
    """The office withdraws the draft payroll: its lines and summary are deleted and the cycle
    goes back to "appraised" (payroll.prepare in the cycle's area; a reason is required)."""
    cycle = (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )
    if actor is not None and not access.can_in_area(actor, Cap.PAYROLL_PREPARE, cycle.area):
        raise TransitionForbidden(_("Your role does not allow preparing the payroll here."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for withdrawing the draft payroll.")})
    if cycle.state != S.PAYROLL_GENERATED:
        raise ApprovalRefused(
            _("Only a draft payroll (state “%(state)s”) can be withdrawn; this cycle is “%(now)s”.")
            % {"state": S.PAYROLL_GENERATED.label, "now": S(cycle.state).label}
        )
    assert_mutable(cycle.pk)
    run = PayrollRun.objects.filter(cycle=cycle).first()
    deleted = PayrollLine.objects.filter(cycle=cycle).delete()[0]
    PayrollRun.objects.filter(cycle=cycle).delete()
    cycle = transition(actor=actor, cycle=cycle, to_state=S.APPRAISED, note=reason)
    record(
        actor=actor,
        action="payroll.payroll.withdrawn",
        obj=cycle,
        area=cycle.area,
        before={"lines": run.lines if run else 0, "total_amount": run.total_amount if run else 0},
        after={"month": f"{cycle.month:%Y-%m}", "programme": cycle.programme.code, "deleted_lines": deleted},
        note=reason[:2000],
    )
    return cycle
