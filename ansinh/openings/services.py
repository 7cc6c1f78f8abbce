"""Every write of account opening: requests (village heads, commune officers), confirmation and
cancellation (the commune), the export of a commune's confirmed requests to the provider, and the
import of the provider's results. Keyword-only, an actor (None: a system job such as a command
run without --user), atomic, audited.

The results import is all-or-nothing: the whole file is checked first; a file with any row error
writes nothing and answers the row-by-row report. A file already imported (same SHA-256) changes
nothing and answers the summary of its first import."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.services import build_event, record, record_many
from ansinh.core.exporter import TitleBlock, to_xlsx, unit_name
from ansinh.payments import services as payment_services
from ansinh.payments.models import AccountKind, AccountStatus, Institution, InstitutionKind, ReceivingAccount
from ansinh.registry.models import Beneficiary, Representation, Status

from . import results_file
from .models import (
    OPEN_STATUSES,
    OpeningBatch,
    OpeningRequest,
    OpeningResultImport,
    RequestStatus,
)

EXPORT_HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Số CCCD", "Số điện thoại", "Địa chỉ", "Mã yêu cầu"]
EXPORT_WIDTHS = [6, 28, 12, 16, 14, 48, 14]


class OpeningError(ValidationError):
    """A request that cannot be made as asked (the message says what to fix)."""


def default_institution() -> Institution:
    """The bank that opens the accounts: ANSINH_OPENINGS_INSTITUTION (Nam A Bank, NAB, by
    default: the bank of the pilot the demo follows), else the first bank in use."""
    code = getattr(settings, "ANSINH_OPENINGS_INSTITUTION", "NAB")
    found = Institution.objects.filter(code=code, active=True).first()
    if found is None:
        found = Institution.objects.filter(active=True, kind=InstitutionKind.BANK).order_by("name").first()
    if found is None:
        raise ValidationError(_("No bank is in use: load the list of banks first (load_institutions)."))
    return found


def _check_cap(actor, cap: str, area, message: str) -> None:
    if actor is not None and not access.can_in_area(actor, cap, area):
        raise PermissionDenied(message)


def _person(beneficiary: Beneficiary, representation: Representation | None) -> dict:
    """Who opens the account, as the provider is told."""
    if representation is None:
        return {
            "full_name": beneficiary.full_name,
            "birth_date": beneficiary.birth_date,
            "cccd": beneficiary.cccd,
            "phone": beneficiary.phone,
        }
    rep = representation.representative
    return {"full_name": rep.full_name, "birth_date": rep.birth_date, "cccd": rep.cccd, "phone": rep.phone}


def address_of(beneficiary: Beneficiary) -> str:
    parts = [beneficiary.address]
    if beneficiary.village is not None:
        parts.append(beneficiary.village.name)
    parts.append(beneficiary.commune.full_name)
    return ", ".join(p for p in parts if p)


def request_problems(beneficiary: Beneficiary, representation: Representation | None) -> list[str]:
    """What stops a request for this person, each saying what to fix in the registry (empty: none)."""
    problems: list[str] = []
    if beneficiary.status == Status.STOPPED:
        problems.append(_("%(name)s no longer receives the allowance.") % {"name": beneficiary.full_name})
        return problems
    if representation is not None and (
        representation.beneficiary_id != beneficiary.pk or representation.ended_at is not None
    ):
        problems.append(_("This representative does not act for the beneficiary."))
        return problems
    person = _person(beneficiary, representation)
    where = (
        _("on the beneficiary's record")
        if representation is None
        else _("on the representative's record (beneficiary's page, Representatives)")
    )
    if not person["cccd"]:
        problems.append(
            _("%(name)s has no CCCD in the registry: add the 12-digit CCCD %(where)s, then make the request.")
            % {"name": person["full_name"], "where": where}
        )
    if not person["phone"]:
        problems.append(
            _(
                "%(name)s has no phone number in the registry: the bank sends its codes to it. Add the phone "
                "number %(where)s, then make the request."
            )
            % {"name": person["full_name"], "where": where}
        )
    if not person["birth_date"]:
        problems.append(
            _("%(name)s has no date of birth in the registry: add it %(where)s, then make the request.")
            % {"name": person["full_name"], "where": where}
        )
    if ReceivingAccount.objects.filter(beneficiary=beneficiary, status=AccountStatus.ACTIVE).exists():
        problems.append(
            _("%(name)s already has an active receiving account: no new account is needed.")
            % {"name": beneficiary.full_name}
        )
    open_requests = OpeningRequest.objects.filter(
        beneficiary=beneficiary, representation=representation, status__in=OPEN_STATUSES
    )
    if open_requests.exists():
        problems.append(
            _("A request to open an account for %(name)s is already in progress.") % {"name": person["full_name"]}
        )
    return problems


@transaction.atomic
def request_opening(
    *,
    actor,
    beneficiary: Beneficiary,
    representation: Representation | None = None,
    switch_method: bool = False,
) -> OpeningRequest:
    """A request that the provider open a free account for the beneficiary (or the representative
    of `representation`), awaiting the commune's confirmation."""
    beneficiary = (
        Beneficiary.objects.select_for_update(of=("self",)).select_related("commune", "village").get(pk=beneficiary.pk)
    )
    _check_cap(
        actor,
        Cap.OPENINGS_REQUEST,
        beneficiary.audit_area,
        _("Your role does not allow requesting accounts for this beneficiary."),
    )
    if representation is not None:
        representation = Representation.objects.select_related("representative").get(pk=representation.pk)
    problems = request_problems(beneficiary, representation)
    if problems:
        raise OpeningError(problems)
    req = OpeningRequest.objects.create(
        beneficiary=beneficiary,
        representation=representation,
        commune=beneficiary.commune,
        area_path=beneficiary.area_path,
        switch_method=switch_method,
        institution=default_institution(),
        requested_by=actor,
    )
    record(
        actor=actor,
        action="openings.request.created",
        obj=req,
        area=beneficiary.audit_area,
        after={
            "code": req.code,
            "person": _person(beneficiary, representation)["full_name"],
            "switch_method": switch_method,
        },
    )
    return req


def _events(actor, action: str, requests: Iterable[OpeningRequest], after: dict | None = None) -> list:
    return [
        build_event(
            actor=actor, action=action, obj=r, area=r.beneficiary.audit_area, after={"code": r.code, **(after or {})}
        )
        for r in requests
    ]


@transaction.atomic
def confirm_requests(*, actor, requests: Iterable[OpeningRequest]) -> int:
    """The commune confirms requests awaiting it (bulk); others are left as they are. Returns how
    many were confirmed."""
    ids = [r.pk for r in requests]
    rows = list(
        OpeningRequest.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status=RequestStatus.REQUESTED)
        .select_related("beneficiary__village", "beneficiary__commune")
        .order_by("pk")
    )
    for r in rows:
        _check_cap(
            actor,
            Cap.OPENINGS_MANAGE,
            r.beneficiary.audit_area,
            _("Your role does not allow confirming requests here."),
        )
        r.set_status(RequestStatus.CONFIRMED)
    if not rows:
        return 0
    now = timezone.now()
    OpeningRequest.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=RequestStatus.CONFIRMED, confirmed_by=actor, confirmed_at=now, updated_at=now
    )
    record_many(_events(actor, "openings.request.confirmed", rows))
    return len(rows)


@transaction.atomic
def cancel_request(*, actor, request: OpeningRequest, reason: str = "") -> OpeningRequest:
    """Withdraw a request not yet sent: the commune (any), or whoever may request there while it
    still awaits the commune."""
    req = (
        OpeningRequest.objects.select_for_update(of=("self",))
        .select_related("beneficiary__village", "beneficiary__commune")
        .get(pk=request.pk)
    )
    area = req.beneficiary.audit_area
    if actor is not None and not access.can_in_area(actor, Cap.OPENINGS_MANAGE, area):
        allowed = req.status == RequestStatus.REQUESTED and access.can_in_area(actor, Cap.OPENINGS_REQUEST, area)
        if not allowed:
            raise PermissionDenied(_("Only the commune can cancel a confirmed request."))
    before = req.status
    req.set_status(RequestStatus.CANCELLED)
    req.closed_at = timezone.now()
    req.save(update_fields=["status", "closed_at", "updated_at"])
    record(
        actor=actor,
        action="openings.request.cancelled",
        obj=req,
        area=area,
        before={"status": before},
        after={"code": req.code, "status": req.status},
        note=reason,
    )
    return req


# --- export to the provider ---------------------------------------------------------------------


def _local_phone(phone: str) -> str:
    return "0" + phone[3:] if phone.startswith("+84") else phone


@transaction.atomic
def export_batch(*, actor, commune: Area) -> OpeningBatch:
    """Every confirmed request of the commune, in one XLSX for the provider (with full CCCDs: the
    bank needs them), kept on the batch; the requests become "sent" with what was sent."""
    if commune.level != Level.COMMUNE:
        raise ValidationError({"commune": _("A batch is made for one commune.")})
    _check_cap(actor, Cap.OPENINGS_MANAGE, commune, _("Your role does not allow exporting requests of this commune."))
    Area.objects.select_for_update().filter(pk=commune.pk).first()  # one export at a time per commune
    rows = list(
        OpeningRequest.objects.select_for_update(of=("self",))
        .filter(area_path__startswith=commune.path, status=RequestStatus.CONFIRMED)
        .select_related("beneficiary__village", "beneficiary__commune", "representation__representative")
        .order_by("beneficiary__sort_key", "pk")
    )
    if not rows:
        raise ValidationError(_("No confirmed request is waiting to be sent in this commune."))
    institution = default_institution()
    now = timezone.now()
    problems = []
    for r in rows:
        person = _person(r.beneficiary, r.representation)
        if not (person["cccd"] and person["phone"] and person["birth_date"]):
            problems.append(r)
            continue
        r.full_name, r.birth_date, r.cccd = person["full_name"], person["birth_date"], person["cccd"]
        r.phone, r.address = person["phone"], address_of(r.beneficiary)[:400]
        r.set_status(RequestStatus.EXPORTED)
        r.institution = institution
        r.updated_at = now
    if problems:
        raise ValidationError(
            _(
                "%(n)s confirmed requests lack a CCCD, phone or date of birth since they were made; "
                "fix the registry first."
            )
            % {"n": len(problems)}
        )
    day = timezone.localdate()
    heading = TitleBlock(
        unit=unit_name(commune),
        title=_("LIST OF REQUESTS TO OPEN AN ACCOUNT FOR RECEIVING ALLOWANCES"),
        lines=[_("Sent to: %(bank)s") % {"bank": institution.name}],
    ).dated(day)
    content = to_xlsx(
        title=_("Account opening"),
        headers=EXPORT_HEADERS,
        rows=(
            [i, r.full_name, f"{r.birth_date:%d/%m/%Y}", r.cccd, _local_phone(r.phone), r.address, r.code]
            for i, r in enumerate(rows, start=1)
        ),
        widths=EXPORT_WIDTHS,
        heading=heading,
    )
    batch = OpeningBatch.objects.create(
        commune=commune,
        area_path=commune.path,
        institution=institution,
        created_by=actor,
        file_name=f"mo-tai-khoan-{commune.code or commune.pk}-{day:%Y%m%d}-{now:%H%M%S}.xlsx",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        count=len(rows),
    )
    for r in rows:
        r.batch = batch
    OpeningRequest.objects.bulk_update(
        rows,
        ["status", "institution", "full_name", "birth_date", "cccd", "phone", "address", "batch", "updated_at"],
        batch_size=1000,
    )
    record(
        actor=actor,
        action="openings.batch.exported",
        obj=batch,
        area=commune,
        after={"count": batch.count, "institution": institution.code, "file": batch.file_name, "sha256": batch.sha256},
    )
    return batch


@transaction.atomic
def log_batch_download(*, actor, batch: OpeningBatch) -> None:
    """The provider file holds full CCCDs: every download is in the audit log."""
    _check_cap(actor, Cap.OPENINGS_MANAGE, batch.commune, _("Your role does not allow downloading this file."))
    record(
        actor=actor,
        action="openings.batch.downloaded",
        obj=batch,
        area=batch.commune,
        after={"count": batch.count, "file": batch.file_name},
    )


# --- the provider's results --------------------------------------------------------------------


@dataclass
class ImportOutcome:
    rows: int = 0
    opened: int = 0
    rejected: int = 0
    unchanged: int = 0
    activated: int = 0
    to_review: int = 0
    switch_requested: int = 0
    switch_waiting: int = 0
    errors: list[dict] = field(default_factory=list)
    duplicate: bool = False
    import_id: int | None = None

    @property
    def error_rows(self) -> int:
        return len({e["row"] for e in self.errors})

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        return {
            "import": self.import_id,
            "duplicate": self.duplicate,
            "written": self.ok and not self.duplicate,
            "rows": self.rows,
            "opened": self.opened,
            "rejected": self.rejected,
            "unchanged": self.unchanged,
            "activated": self.activated,
            "to_review": self.to_review,
            "switch_requested": self.switch_requested,
            "switch_waiting": self.switch_waiting,
            "error_rows": self.error_rows,
            "errors": self.errors,
        }


def _scoped_requests(actor, batch: OpeningBatch | None, commune: Area | None):
    qs = OpeningRequest.objects.all()
    if actor is not None:
        qs = access.scope(qs, actor, Cap.OPENINGS_MANAGE, path_field="area_path")
    if batch is not None:
        qs = qs.filter(batch=batch)
    if commune is not None:
        qs = qs.filter(area_path__startswith=commune.path)
    return qs


def import_results(
    *,
    actor,
    content: bytes,
    file_name: str,
    batch: OpeningBatch | None = None,
    commune: Area | None = None,
) -> ImportOutcome:
    """Read the provider's results file (XLSX or CSV) and, when every row is right, write them in
    one transaction: opened → the receiving account (held by the request's person, the holder
    name as the bank gives it), activated when the name matches (else left for a person to
    check), and, where the person asked, a request to pay to it from the next month; rejected →
    the request closed with the reason. `batch`/`commune` limit which requests the file may
    answer (and the actor's areas always do)."""
    if batch is not None:
        _check_cap(actor, Cap.OPENINGS_MANAGE, batch.commune, _("Your role does not allow importing results here."))
    sha = hashlib.sha256(content).hexdigest()
    previous = OpeningResultImport.objects.filter(sha256=sha).first()
    if previous is not None:
        out = ImportOutcome(duplicate=True, import_id=previous.pk, rows=previous.rows, unchanged=previous.rows)
        return out
    try:
        parsed = results_file.read(content, file_name)
    except results_file.FileError as exc:
        return ImportOutcome(errors=[{"row": 0, "column": "", "message": str(exc)}])
    outcome = ImportOutcome(rows=len(parsed))
    checked = _check_rows(parsed, _scoped_requests(actor, batch, commune), outcome)
    if outcome.errors:
        return outcome
    try:
        return _apply(actor, checked, outcome, sha=sha, file_name=file_name, batch=batch, commune=commune)
    except _RowFailed as failed:  # everything rolled back
        return ImportOutcome(rows=len(parsed), errors=[failed.as_dict()])


class _RowFailed(Exception):
    def __init__(self, line: int, column: str, message: str):
        super().__init__(message)
        self.line, self.column, self.message = line, column, message

    def as_dict(self) -> dict:
        return {"row": self.line, "column": self.column, "message": self.message}


@transaction.atomic
def _apply(actor, checked: list, outcome: ImportOutcome, *, sha: str, file_name: str, batch, commune) -> ImportOutcome:
    if OpeningResultImport.objects.select_for_update().filter(sha256=sha).exists():
        return ImportOutcome(duplicate=True, rows=outcome.rows, unchanged=outcome.rows)
    _write(actor, checked, outcome)
    area = batch.commune if batch else commune
    if area is None:
        communes = {req.commune_id for _row, req, _r in checked}
        area = Area.objects.get(pk=communes.pop()) if len(communes) == 1 else None
    imp = OpeningResultImport.objects.create(
        commune=area,
        area_path=area.path if area else "",
        batch=batch,
        sha256=sha,
        file_name=file_name[:255],
        imported_by=actor,
        rows=outcome.rows,
        opened=outcome.opened,
        rejected=outcome.rejected,
        unchanged=outcome.unchanged,
        activated=outcome.activated,
        to_review=outcome.to_review,
        switch_requested=outcome.switch_requested,
    )
    outcome.import_id = imp.pk
    record(actor=actor, action="openings.results.imported", obj=imp, area=area, after=imp.summary())
    return outcome


def _check_rows(parsed: list[results_file.ResultRow], scoped, outcome: ImportOutcome) -> list:
    """(row, request, kind of change) for every row, or errors in `outcome`. Nothing is written."""

    def err(row: results_file.ResultRow, column: str, message: str) -> None:
        outcome.errors.append({"row": row.line, "column": column, "message": message})

    pks = {r.request_pk for r in parsed if r.request_pk}
    by_pk = {
        req.pk: req
        for req in scoped.filter(pk__in=pks).select_related(
            "beneficiary__village", "beneficiary__commune", "representation__representative", "account", "institution"
        )
    }
    seen: set[int] = set()
    checked = []
    today = timezone.localdate()
    for row in parsed:
        for column, message in row.problems:
            err(row, column, message)
        if row.problems:
            continue
        req = by_pk.get(row.request_pk or 0)
        if req is None:
            err(row, results_file.COLUMN_LABELS["code"], _("No request sent to the provider has this code."))
            continue
        if req.pk in seen:
            err(row, results_file.COLUMN_LABELS["code"], _("This request is answered twice in the file."))
            continue
        seen.add(req.pk)
        if row.opened:
            if row.opened_on and row.opened_on > today:
                err(row, results_file.COLUMN_LABELS["opened_on"], _("The opening date cannot be in the future."))
                continue
            try:
                payment_services.check_number(institution=req.institution, kind=_kind(req), number=row.account_number)
            except ValidationError as exc:
                err(row, results_file.COLUMN_LABELS["number"], " ".join(exc.messages))
                continue
        if req.status == RequestStatus.EXPORTED:
            checked.append((row, req, "write"))
        elif _same_answer(req, row):
            checked.append((row, req, "same"))
        else:
            err(
                row,
                results_file.COLUMN_LABELS["result"],
                _("This request was already answered (%(status)s); the file says otherwise.")
                % {"status": req.get_status_display()},
            )
    return checked


def _same_answer(req: OpeningRequest, row: results_file.ResultRow) -> bool:
    """The request was already answered as the row says (a file imported again, or resent)."""
    if req.status == RequestStatus.OPENED:
        return row.opened and _same_account(req.account, row.account_number)
    return req.status == RequestStatus.REJECTED and not row.opened


def _same_account(account: ReceivingAccount | None, number: str) -> bool:
    from ansinh.payments import crypto

    return account is not None and account.number_hash == crypto.number_hash(crypto.normalize_number(number))


def _kind(req: OpeningRequest) -> str:
    return AccountKind.WALLET if req.institution.kind == InstitutionKind.WALLET else AccountKind.BANK


def _write(actor, checked: list, outcome: ImportOutcome) -> None:
    now = timezone.now()
    to_write = [(row, req) for row, req, what in checked if what != "same"]
    outcome.unchanged += len(checked) - len(to_write)
    locked = OpeningRequest.objects.select_for_update().in_bulk([req.pk for _row, req in to_write])
    opened = [(row, req) for row, req in to_write if row.opened]
    # the accounts of the whole file in one bulk write (payments.services.register_accounts)
    try:
        accounts = payment_services.register_accounts(
            actor=actor,
            accounts=[
                payment_services.AccountInput(
                    beneficiary=req.beneficiary,
                    kind=_kind(req),
                    institution=req.institution,
                    number=row.account_number,
                    holder_name=row.holder_name or req.full_name,
                    holder_representation=req.representation,
                    opened_on=row.opened_on or timezone.localdate(),
                )
                for row, req in opened
            ],
        )
    except payment_services.AccountRowError as exc:  # e.g. the representative stopped acting since the export
        line = opened[exc.index][0].line
        raise _RowFailed(line, results_file.COLUMN_LABELS["number"], " ".join(exc.messages)) from exc
    account_of = {req.pk: account for (_row, req), account in zip(opened, accounts, strict=True)}
    for row, checked_req in to_write:
        req = locked[checked_req.pk]
        req.beneficiary, req.representation = checked_req.beneficiary, checked_req.representation
        area = req.beneficiary.audit_area
        if not row.opened:
            req.set_status(RequestStatus.REJECTED)
            req.reject_reason = row.reason[:255]
            req.closed_at = now
            req.save(update_fields=["status", "reject_reason", "closed_at", "updated_at"])
            record(
                actor=actor,
                action="openings.request.rejected",
                obj=req,
                area=area,
                after={"code": req.code, "reason": req.reject_reason},
            )
            outcome.rejected += 1
            continue
        account = account_of[req.pk]
        if not payment_services.activation_blockers(account):
            account = payment_services.activate_account(actor=actor, account=account)
            outcome.activated += 1
        else:
            outcome.to_review += 1
        req.set_status(RequestStatus.OPENED)
        req.account = account
        req.opened_on = account.opened_on
        req.closed_at = now
        req.save(update_fields=["status", "account", "opened_on", "closed_at", "updated_at"])
        record(
            actor=actor,
            action="openings.request.opened",
            obj=req,
            area=area,
            after={"code": req.code, "account": account.masked_number, "holder_name": account.holder_name},
        )
        outcome.opened += 1
        if req.switch_method:
            # a change of account that a second person approves (payments.approvals); one that
            # cannot be asked now (another change already waits) is left for the commune
            try:
                with transaction.atomic():
                    payment_services.request_account_change(
                        actor=actor, beneficiary=req.beneficiary, account=account, from_month=None
                    )
                outcome.switch_requested += 1
            except ValidationError:
                outcome.switch_waiting += 1
