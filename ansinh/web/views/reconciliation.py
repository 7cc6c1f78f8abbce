"""Reconciliation pages (issue 13 part 2): the funded account's bank statements (upload, the
import's result with its entries), the exceptions worklist (filter by kind, state, commune),
an exception with its actions, and a cycle's reconciliation (counts, run the checks, the ledger's
balance when the ledger is there).

Who: reconciliation.view reads, in the areas of their roles (another area's object is a 404);
reconciliation.manage acts (a reader's POST is a 403 that writes nothing). The rules live in
ansinh.reconciliation (statements, checks, resolution); a refusal becomes a message."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ansinh.accounts import access
from ansinh.accounts.models import OrgKind, OrgUnit
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.core.errors import DomainError
from ansinh.disbursement.formats.errors import FormatError
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.payroll.models import FixKind, PaymentCycle, ProviderContract
from ansinh.reconciliation import checks, resolution, statements
from ansinh.reconciliation.models import (
    EntryOutcome,
    ReconException,
    ReconKind,
    ReconState,
    StatementEntry,
    StatementFormat,
)

from ..shortcuts import paginate

ERRORS = (DomainError, ValidationError, FormatError)
MAX_UPLOAD = 200 * 1024 * 1024


def _fail(request, exc: Exception) -> None:
    for message in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
        messages.error(request, message)


def _require_view(user) -> None:
    if not access.has_cap(user, Cap.RECONCILIATION_VIEW):
        raise PermissionDenied


# --- forms ------------------------------------------------------------------------------------------


class StatementForm(forms.Form):
    provider = forms.ModelChoiceField(label=gettext_lazy("Payment provider"), queryset=OrgUnit.objects.none())
    source = forms.ChoiceField(label=gettext_lazy("Kind of file"), choices=StatementFormat.choices)
    file = forms.FileField(label=gettext_lazy("Bank statement of the funded account"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["provider"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = providers_for(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise ValidationError(_("The file is too large."))
        return upload


class ExceptionFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Exception"), required=False, choices=[("", gettext_lazy("— all —")), *ReconKind.choices]
    )
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("Still to resolve")), *ReconState.choices, ("all", gettext_lazy("— all —"))],
    )
    commune = forms.ModelChoiceField(label=gettext_lazy("Commune"), required=False, queryset=Area.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["commune"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            access.areas_for(user, Cap.RECONCILIATION_VIEW).filter(level=Level.COMMUNE).order_by("name_key", "pk")
        )


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class FixForm(forms.Form):
    kind = forms.ChoiceField(choices=FixKind.choices)
    account = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000)


class MoneyForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.IntegerField(label=gettext_lazy("Amount (đồng)"), required=False, min_value=1)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    token = forms.CharField(required=False, max_length=10)
    reason = forms.CharField(required=False, max_length=2000)


# --- lookups ----------------------------------------------------------------------------------------


def providers_for(user):
    """The providers whose statements `user` may import (a contract in their reconciliation areas)."""
    contracts = access.scope(ProviderContract.objects.all(), user, Cap.RECONCILE, "area_path")
    return OrgUnit.objects.filter(kind=OrgKind.PROVIDER, pk__in=contracts.values("provider_id")).order_by("name")


def _exception(request, recon_id: int) -> ReconException:
    _require_view(request.user)
    return get_object_or_404(checks.exceptions_for(request.user), pk=recon_id)


def _statement(request, statement_id: int):
    _require_view(request.user)
    return get_object_or_404(statements.statements_for(request.user), pk=statement_id)


def _cycle(request, cycle_id: int) -> PaymentCycle:
    _require_view(request.user)
    qs = access.scope(
        PaymentCycle.objects.select_related("area", "programme"), request.user, Cap.RECONCILIATION_VIEW, "area_path"
    )
    return get_object_or_404(qs, pk=cycle_id)


# --- statements -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def statement_list(request):
    _require_view(request.user)
    may_import = access.has_cap(request.user, Cap.RECONCILE)
    form = StatementForm(user=request.user)
    if request.method == "POST":
        if not may_import:
            raise PermissionDenied
        form = StatementForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                job = statements.import_file(
                    actor=request.user,
                    upload=cd["file"],
                    provider=cd["provider"],
                    source=cd["source"],
                    file_name=cd["file"].name,
                )
            except statements.StatementForbidden as exc:
                raise PermissionDenied from exc
            except ERRORS as exc:
                _fail(request, exc)
            else:
                if job.state == "applied":
                    messages.success(request, _("The statement was imported."))
                else:
                    messages.error(request, job.refused_reason)
                return redirect("reconciliation:statement", statement_id=job.pk)
    page = paginate(request, statements.statements_for(request.user))
    return render(
        request,
        "reconciliation/statements.html",
        {"form": form, "page": page, "jobs": page.object_list, "may_import": may_import, "active": "reconciliation"},
    )


@require_GET
@login_required
def statement_detail(request, statement_id: int):
    job = _statement(request, statement_id)
    outcome = request.GET.get("outcome", "")
    entries = StatementEntry.objects.filter(job=job).select_related("instruction", "advance").order_by("row_number")
    if outcome in EntryOutcome.values:
        entries = entries.filter(outcome=outcome)
    page = paginate(request, entries)
    summary = job.summary or {}
    per_kind = [
        (kind, outcome_, values)
        for kind, outcomes in (summary.get("per_kind") or {}).items()
        for outcome_, values in outcomes.items()
    ]
    return render(
        request,
        "reconciliation/statement.html",
        {
            "job": job,
            "page": page,
            "entries": page.object_list,
            "outcome": outcome,
            "outcomes": EntryOutcome.choices,
            "per_kind": [
                {"kind": _label(kind, "kind"), "outcome": _label(o, "outcome"), **values}
                for kind, o, values in per_kind
            ],
            "missing": summary.get("missing", 0),
            "active": "reconciliation",
        },
    )


def _label(value: str, what: str) -> str:
    from ansinh.reconciliation.models import EntryKind

    choices = EntryKind if what == "kind" else EntryOutcome
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# --- exceptions -------------------------------------------------------------------------------------------


@require_GET
@login_required
def exception_list(request):
    _require_view(request.user)
    form = ExceptionFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {"kind": "", "state": "", "commune": None}
    qs = checks.exceptions_for(request.user)
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    state = data.get("state") or ""
    if state == "":
        qs = qs.exclude(state=ReconState.RESOLVED)
    elif state != "all":
        qs = qs.filter(state=state)
    if data.get("commune") is not None:
        qs = qs.filter(Q(commune=data["commune"]) | Q(area_path__startswith=data["commune"].path))
    page = paginate(request, qs.order_by("state", "due_date", "id"))
    return render(
        request,
        "reconciliation/exceptions.html",
        {"form": form, "page": page, "exceptions": page.object_list, "active": "reconciliation"},
    )


def _actions(user, exc: ReconException) -> dict:
    allowed = resolution.ACTIONS.get(exc.kind, ())
    acting = resolution.may_act(user, exc) and exc.state != ReconState.RESOLVED
    open_ = acting and exc.state == ReconState.OPEN
    out = {
        "may_resend": open_ and "resend" in allowed,
        "may_to_cash": open_ and "to_cash" in allowed,
        "may_recover": open_ and "recover" in allowed,
        "may_write_off": open_ and "write_off" in allowed,
        "may_note": acting and "note" in allowed,
        "awaiting_write_off": exc.state == ReconState.IN_HAND and exc.receivable_id is not None,
        "may_decide_write_off": exc.state == ReconState.IN_HAND
        and exc.receivable_id is not None
        and access.can_in_area(user, Cap.PAYROLL_APPROVE, resolution.area_of(exc)),
        "awaiting_fix": exc.state == ReconState.IN_HAND and exc.fix_id is not None,
        "accounts": [],
    }
    if out["may_resend"] and exc.beneficiary_id:
        out["accounts"] = list(
            ReceivingAccount.objects.filter(
                beneficiary_id=exc.beneficiary_id, status=AccountStatus.ACTIVE
            ).select_related("institution")
        )
    return out


@require_GET
@login_required
def exception_detail(request, recon_id: int):
    exc = _exception(request, recon_id)
    from ansinh.audit.services import history

    context = {
        "exc": exc,
        "history": history(exc).order_by("-at", "-id")[:50],
        "note_form": NoteForm(),
        "money_form": MoneyForm(),
        "active": "reconciliation",
        **_actions(request.user, exc),
    }
    return render(request, "reconciliation/exception.html", context)


def _act(request, exc: ReconException) -> None:
    if not resolution.may_act(request.user, exc):
        raise PermissionDenied


def _back(exc: ReconException):
    return redirect("reconciliation:exception", recon_id=exc.pk)


@require_POST
@login_required
def exception_fix(request, recon_id: int):
    exc = _exception(request, recon_id)
    _act(request, exc)
    form = FixForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do and give the reason."))
        return _back(exc)
    cd = form.cleaned_data
    account = None
    if cd["kind"] == FixKind.RESEND:
        account = ReceivingAccount.objects.filter(pk=cd["account"] or 0, beneficiary_id=exc.beneficiary_id or 0).first()
        if account is None:
            messages.error(request, _("Choose the corrected account to send the money to."))
            return _back(exc)
    try:
        resolution.ask_fix(actor=request.user, exception=exc, kind=cd["kind"], account=account, reason=cd["reason"])
    except ERRORS as error:
        _fail(request, error)
    else:
        messages.success(request, _("The fix awaits a second person's approval on the payment cycle's page."))
    return _back(exc)


@require_POST
@login_required
def exception_recover(request, recon_id: int):
    exc = _exception(request, recon_id)
    _act(request, exc)
    form = MoneyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason."))
        return _back(exc)
    try:
        if request.POST.get("write_off"):
            resolution.request_write_off(
                actor=request.user, exception=exc, reason=form.cleaned_data["note"], amount=form.cleaned_data["amount"]
            )
            messages.success(request, _("The write-off awaits a second person's approval."))
        else:
            resolution.recover(
                actor=request.user, exception=exc, note=form.cleaned_data["note"], amount=form.cleaned_data["amount"]
            )
            messages.success(request, _("The money to recover was recorded."))
    except ERRORS as error:
        _fail(request, error)
    return _back(exc)


@require_POST
@login_required
def exception_write_off(request, recon_id: int):
    """The second person's decision on a requested write-off (payroll.approve)."""
    exc = _exception(request, recon_id)
    if not access.can_in_area(request.user, Cap.PAYROLL_APPROVE, resolution.area_of(exc)):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do."))
        return _back(exc)
    cd = form.cleaned_data
    try:
        if cd["decision"] == "approve":
            resolution.approve_write_off(actor=request.user, exception=exc, token=cd["token"] or "")
            messages.success(request, _("The write-off was approved."))
        else:
            resolution.reject_write_off(actor=request.user, exception=exc, reason=cd["reason"] or "")
            messages.success(request, _("The write-off was refused."))
    except ERRORS as error:
        _fail(request, error)
    return _back(exc)


@require_POST
@login_required
def exception_note(request, recon_id: int):
    exc = _exception(request, recon_id)
    _act(request, exc)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what was checked."))
        return _back(exc)
    try:
        resolution.note(actor=request.user, exception=exc, note=form.cleaned_data["note"])
    except ERRORS as error:
        _fail(request, error)
    else:
        messages.success(request, _("The exception was closed."))
    return _back(exc)


# --- a cycle's reconciliation ---------------------------------------------------------------------------


def _balance(cycle: PaymentCycle):
    """The ledger's balance of the cycle, when the ledger is there (issue 13 part 1)."""
    try:
        from ansinh.reconciliation import ledger
    except ImportError:
        return None
    balance = getattr(ledger, "balance", None)
    if balance is None:
        return None
    try:
        return balance(cycle)
    except Exception:  # noqa: BLE001 - the ledger is optional on this page; its own pages report errors
        return None


@require_GET
@login_required
def cycle_view(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    qs = checks.exceptions_for(request.user).filter(cycle=cycle)
    table = checks.counts(qs)
    rows = [
        {
            "kind": kind,
            "label": label,
            "open": table.get(kind, {}).get(ReconState.OPEN, 0),
            "in_hand": table.get(kind, {}).get(ReconState.IN_HAND, 0),
            "resolved": table.get(kind, {}).get(ReconState.RESOLVED, 0),
        }
        for kind, label in ReconKind.choices
    ]
    return render(
        request,
        "reconciliation/cycle.html",
        {
            "cycle": cycle,
            "rows": rows,
            "may_run": checks.may_run(request.user, cycle),
            "balance": _balance(cycle),
            "active": "reconciliation",
        },
    )


@require_POST
@login_required
def cycle_run(request, cycle_id: int):
    cycle = _cycle(request, cycle_id)
    if not checks.may_run(request.user, cycle):
        raise PermissionDenied
    try:
        result = checks.run_checks(actor=request.user, cycle=cycle)
    except ERRORS as error:
        _fail(request, error)
    else:
        messages.success(
            request,
            _("The checks ran: %(opened)s new exceptions, %(closed)s no longer found.")
            % {"opened": result["opened"], "closed": result["closed"]},
        )
    return redirect("reconciliation:cycle", cycle_id=cycle.pk)
