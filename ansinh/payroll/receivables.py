"""Receivables (khoản phải thu hồi) and funeral support (hỗ trợ mai táng): the services behind
the receivables pages and the death record. See docs/payment-cycle.md, "Arrears, recoveries,
funeral support".

- `record_receivable`: the office records an overpayment by hand (reason required).
- `record_payee_recovery`: the money came back from the payee (amount, date, reference); the
  receivable closes when fully recovered.
- `request_write_off` / `approve_write_off`: writing off needs a reason and a SECOND person
  (not the requester) holding payroll.approve, confirmed with a current TOTP code.
- `record_funeral_support`: recorded with a death; the amount comes from the policy's one-off
  table on the day of death (the highest applicable FUNERAL.* category)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access, otp
from ansinh.accounts.roles import Cap
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.core.money import format_vnd
from ansinh.policy.entitlement import Claim, PolicyMonth
from ansinh.policy.models import Basis, Category, Kind

from .adjustments import pending_deductions
from .models import FuneralState, FuneralSupport, Receivable, ReceivableReason, ReceivableState
from .services import TransitionForbidden


class ReceivableRefused(DomainError):
    """The step on a receivable is not allowed now; the message says why."""


def _user_name(user) -> str:
    if user is None:
        return _("the system")
    return getattr(user, "full_name", "") or user.get_username()


def _area(receivable: Receivable):
    return receivable.beneficiary.commune


def _lock(receivable: Receivable) -> Receivable:
    return (
        Receivable.objects.select_for_update(of=("self",))
        .select_related("beneficiary", "beneficiary__commune", "programme")
        .get(pk=receivable.pk)
    )


def _require(actor, cap: str, area, message: str) -> None:
    if actor is None or not access.can_in_area(actor, cap, area):
        raise TransitionForbidden(message)


@transaction.atomic
def record_receivable(
    *, actor, beneficiary, programme, amount: int, reason: str, debtor_name: str = "", representation=None
) -> Receivable:
    """An overpayment recorded by the office (reason MANUAL), against the beneficiary or a payee."""
    _require(actor, Cap.PAYROLL_PREPARE, beneficiary.commune, _("Your role does not allow recording receivables here."))
    errors: dict[str, list[str]] = {}
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        errors["amount"] = [_("Enter an amount in đồng greater than 0.")]
    if not reason.strip():
        errors["reason"] = [_("Give the reason.")]
    if representation is not None and representation.beneficiary_id != beneficiary.pk:
        errors["representation"] = [_("This representative does not act for the beneficiary.")]
    if errors:
        raise ValidationError(errors)
    if not debtor_name.strip():
        debtor_name = representation.representative.full_name if representation is not None else beneficiary.full_name
    receivable = Receivable.objects.create(
        beneficiary=beneficiary,
        programme=programme,
        representation=representation,
        debtor_name=debtor_name.strip()[:150],
        reason=ReceivableReason.MANUAL,
        months=[],
        amount=amount,
        area_path=beneficiary.area_path,
        note=reason.strip()[:2000],
        created_by=actor,
    )
    record(
        actor=actor,
        action="payroll.receivable.recorded",
        obj=receivable,
        area=beneficiary.commune,
        after={
            "name": beneficiary.full_name,
            "debtor": receivable.debtor_name,
            "amount": amount,
            "programme": programme.code,
        },
        note=reason.strip()[:2000],
    )
    return receivable


def available(receivable: Receivable) -> int:
    """What may still be recovered outside the payroll: the outstanding amount less what draft
    payrolls already deduct."""
    return receivable.outstanding - pending_deductions([receivable.pk]).get(receivable.pk, 0)


@transaction.atomic
def record_payee_recovery(*, actor, receivable: Receivable, amount: int, on: date, reference: str) -> Receivable:
    """Money recovered from the payee (paid back at the office or the treasury)."""
    receivable = _lock(receivable)
    _require(actor, Cap.PAYROLL_PREPARE, _area(receivable), _("Your role does not allow settling receivables here."))
    if receivable.state != ReceivableState.OPEN:
        raise ReceivableRefused(_("Only an open receivable can be recovered."))
    errors: dict[str, list[str]] = {}
    room = available(receivable)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        errors["amount"] = [_("Enter an amount in đồng greater than 0.")]
    elif amount > room:
        errors["amount"] = [
            _("At most %(amount)s remains to be recovered (draft payrolls included).") % {"amount": format_vnd(room)}
        ]
    if on > timezone.localdate():
        errors["on"] = [_("The date cannot be in the future.")]
    if not reference.strip():
        errors["reference"] = [_("Enter the receipt or treasury reference.")]
    if errors:
        raise ValidationError(errors)
    before = {"recovered": receivable.recovered, "state": receivable.state}
    receivable.recovered += amount
    line = _("%(date)s: %(amount)s recovered from the payee (ref. %(reference)s)") % {
        "date": f"{on:%d/%m/%Y}",
        "amount": format_vnd(amount),
        "reference": reference.strip()[:60],
    }
    receivable.note = f"{receivable.note}\n{line}".strip()
    fields = ["recovered", "note"]
    if receivable.recovered >= receivable.amount:
        receivable.state, receivable.closed_by, receivable.closed_at = ReceivableState.RECOVERED, actor, timezone.now()
        fields += ["state", "closed_by", "closed_at"]
    receivable.save(update_fields=fields)
    event = record(
        actor=actor,
        action="payroll.receivable.recovered_from_payee",
        obj=receivable,
        area=_area(receivable),
        before=before,
        after={
            "name": receivable.beneficiary.full_name,
            "debtor": receivable.debtor_name,
            "amount": amount,
            "date": on.isoformat(),
            "reference": reference.strip()[:60],
            "recovered": receivable.recovered,
            "state": receivable.state,
        },
    )
    from ansinh.reconciliation import ledger  # outside the month's advance, in this transaction

    ledger.on_payee_recovery(actor=actor, receivable=receivable, amount=amount, on=on, event_id=event.pk)
    return receivable


@transaction.atomic
def request_write_off(*, actor, receivable: Receivable, reason: str) -> Receivable:
    """The office asks to write the receivable off (reason required); a second person approves."""
    receivable = _lock(receivable)
    _require(actor, Cap.PAYROLL_PREPARE, _area(receivable), _("Your role does not allow settling receivables here."))
    if receivable.state != ReceivableState.OPEN:
        raise ReceivableRefused(_("Only an open receivable can be written off."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for writing off.")]})
    if pending_deductions([receivable.pk]).get(receivable.pk):
        raise ReceivableRefused(
            _("A draft payroll deducts from this receivable: approve or regenerate it before writing off.")
        )
    receivable.state = ReceivableState.WRITE_OFF_REQUESTED
    receivable.write_off_requested_by = actor
    receivable.write_off_reason = reason.strip()[:2000]
    receivable.save(update_fields=["state", "write_off_requested_by", "write_off_reason"])
    record(
        actor=actor,
        action="payroll.receivable.write_off_requested",
        obj=receivable,
        area=_area(receivable),
        before={"state": ReceivableState.OPEN},
        after={
            "state": receivable.state,
            "outstanding": receivable.outstanding,
            "name": receivable.beneficiary.full_name,
            "debtor": receivable.debtor_name,
        },
        note=receivable.write_off_reason,
    )
    return receivable


def write_off_blockers(actor, receivable: Receivable) -> list[str]:
    """Why `actor` may not approve the write-off (empty: they may, given a valid code)."""
    if receivable.state != ReceivableState.WRITE_OFF_REQUESTED:
        return [_("No write-off of this receivable awaits approval.")]
    out = []
    if actor is None or not access.can_in_area(actor, Cap.PAYROLL_APPROVE, _area(receivable)):
        out.append(_("Your role does not allow approving write-offs here."))
    if actor is not None and actor.pk == receivable.write_off_requested_by_id:
        out.append(_("A write-off is approved by a second person, never by the one who asked for it."))
    return out


def approve_write_off(*, actor, receivable: Receivable, token: str) -> Receivable:
    """Approve the requested write-off with a current code of the approver's device. The code is
    checked outside the transaction, so a wrong code counts for django-otp's throttling."""
    receivable = Receivable.objects.select_related("beneficiary__commune").get(pk=receivable.pk)
    blockers = write_off_blockers(actor, receivable)
    if blockers:
        raise ReceivableRefused(" ".join(blockers))
    otp.require_code(
        actor, token, enrol_first=_("Enrol an authenticator app (your account page) before approving a write-off.")
    )
    return _approve_write_off(actor, receivable)


@transaction.atomic
def _approve_write_off(actor, receivable: Receivable) -> Receivable:
    receivable = _lock(receivable)
    blockers = write_off_blockers(actor, receivable)  # decided since the page was read
    if blockers:
        raise ReceivableRefused(" ".join(blockers))
    receivable.state, receivable.closed_by, receivable.closed_at = ReceivableState.WRITTEN_OFF, actor, timezone.now()
    receivable.save(update_fields=["state", "closed_by", "closed_at"])
    record(
        actor=actor,
        action="payroll.receivable.written_off",
        obj=receivable,
        area=_area(receivable),
        before={"state": ReceivableState.WRITE_OFF_REQUESTED},
        after={
            "state": receivable.state,
            "outstanding": receivable.outstanding,
            "name": receivable.beneficiary.full_name,
            "debtor": receivable.debtor_name,
            "requested_by": _user_name(receivable.write_off_requested_by),
        },
        note=receivable.write_off_reason,
    )
    return receivable


@transaction.atomic
def reject_write_off(*, actor, receivable: Receivable, reason: str) -> Receivable:
    """The approver refuses the write-off: the receivable is open again."""
    receivable = _lock(receivable)
    blockers = [b for b in write_off_blockers(actor, receivable) if "second person" not in b]
    if receivable.state != ReceivableState.WRITE_OFF_REQUESTED or not access.can_in_area(
        actor, Cap.PAYROLL_APPROVE, _area(receivable)
    ):
        raise ReceivableRefused(" ".join(blockers) or _("No write-off of this receivable awaits approval."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    receivable.state = ReceivableState.OPEN
    receivable.write_off_requested_by = None
    receivable.save(update_fields=["state", "write_off_requested_by"])
    record(
        actor=actor,
        action="payroll.receivable.write_off_rejected",
        obj=receivable,
        area=_area(receivable),
        before={"state": ReceivableState.WRITE_OFF_REQUESTED},
        after={"state": receivable.state, "name": receivable.beneficiary.full_name, "debtor": receivable.debtor_name},
        note=reason.strip()[:2000],
    )
    return receivable


# --- funeral support ----------------------------------------------------------------------------------


class FuneralRefused(DomainError):
    """Funeral support cannot be recorded; the message says why."""


def funeral_entitlement(beneficiary, death_date: date):
    """The highest funeral support the beneficiary's programmes give on the day of death
    (policy one-off table; "pay one, the highest"), or None. Emergency support (disaster, fire,
    accident) is not part of this: it is decided case by case."""
    month = death_date.replace(day=1)
    programmes = set(
        beneficiary.categories.filter(from_month__lte=month)
        .exclude(to_month__lt=month)
        .values_list("category__programme_id", flat=True)
    )
    if not programmes:  # stopped already: the claims of the last paid month
        programmes = set(beneficiary.categories.values_list("category__programme_id", flat=True))
    categories = Category.objects.filter(
        programme_id__in=programmes, kind=Kind.ONE_OFF, code__startswith="FUNERAL."
    ).exclude(code__contains="EMERGENCY")
    table = PolicyMonth.on(death_date, provinces=[beneficiary.commune]).table(beneficiary.commune)
    results = []
    for code, basis in categories.values_list("code", "basis"):
        claim = Claim(category_code=code, fixed_key="funeral" if basis == Basis.FIXED else "")
        e = table.one_off(claim, beneficiary.birth_date)
        if e is not None:
            results.append(e)
    return max(results, key=lambda e: (e.amount, e.category_code), default=None)


@transaction.atomic
def record_funeral_support(
    *,
    actor,
    beneficiary,
    death_date: date,
    organiser_name: str,
    organiser_cccd: str = "",
    organiser_phone: str = "",
    relationship: str = "",
) -> FuneralSupport:
    """Record the one-off funeral support with the death: paid once, to the person who organises
    the funeral, on the next payroll of the beneficiary's commune and programme."""
    from ansinh.registry.validation import check_phone

    if actor is not None and not access.can_in_area(actor, Cap.REGISTRY_DECIDE, beneficiary.commune):
        raise TransitionForbidden(_("Your role does not allow recording funeral support here."))
    errors: dict[str, list[str]] = {}
    if not organiser_name.strip():
        errors["organiser_name"] = [_("Enter the name of the person organising the funeral.")]
    cccd = organiser_cccd.strip()
    if cccd and not (cccd.isdigit() and len(cccd) == 12):
        errors["organiser_cccd"] = [_("A CCCD has 12 digits.")]
    phone, phone_findings = check_phone(organiser_phone, name="organiser_phone")
    errors.update(phone_findings.errors)
    if errors:
        raise ValidationError(errors)
    if FuneralSupport.objects.filter(beneficiary=beneficiary).exists():
        raise FuneralRefused(_("Funeral support is already recorded for this person."))
    e = funeral_entitlement(beneficiary, death_date)
    if e is None:
        raise FuneralRefused(_("No funeral support is in force for this person's programme on the day of death."))
    support = FuneralSupport.objects.create(
        beneficiary=beneficiary,
        death_date=death_date,
        organiser_name=organiser_name.strip()[:150],
        organiser_cccd=cccd,
        organiser_phone=phone,
        relationship=relationship.strip()[:60],
        category_code=e.category_code,
        amount=e.amount,
        state=FuneralState.RECORDED,
        area_path=beneficiary.area_path,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record(
        actor=actor,
        action="payroll.funeral.recorded",
        obj=support,
        area=beneficiary.commune,
        after={
            "beneficiary": beneficiary.pk,
            "name": beneficiary.full_name,
            "death_date": death_date.isoformat(),
            "organiser": support.organiser_name,
            "organiser_cccd": cccd,
            "amount": e.amount,
            "category": e.category_code,
        },
    )
    return support
