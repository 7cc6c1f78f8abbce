"""Every URL, every persona.

The web URL patterns are read from Django's URL resolver and the API operations from the
OpenAPI schema, so a page or an endpoint added later is walked without editing this file. With
commune A's objects in place (a beneficiary with a representative and a decision, an import
job, an API token, an organisation unit, a village, a move towards A), every pattern is requested
with GET and POST (web) or its operations' methods (API), its path parameters filled with A's
objects from `PATH_PARAMS`:

- anonymous: a web page sends to the login form (or refuses the method), the API answers 401;
- viewer_a (read-only on A): every write is a 403 (405 where the view takes no such method);
- officer_b (officer of commune B): A's objects are a 404; a list or an export (also when asked
  to filter by A's ids, names or numbers) shows nothing of A;
- officer_b again, on B's own objects, with A's ids and A's people in the bodies (a move to A, a
  representative with the CCCD of A's representative, a person named and born like A's
  beneficiary): nothing of A changes and no more of A's people shows than a name.

After every request the whole database (and the stored uploads) is compared with its state
before: nothing may change except the user's own API tokens (the account pages) and the audit
record of what the user did, and, in the last case, rows in commune B.

A path parameter, a query parameter or a namespace not known to the tables below makes the case
FAIL with a message saying what to add: a new view is never skipped silently. A defect the walk
finds that is being fixed elsewhere is listed in `KNOWN_DEFECTS` (strict xfail): the lead sees
the case flip when the fix lands."""

from __future__ import annotations

import html
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ansinh.accounts.models import OrgKind
from ansinh.accounts.roles import Role
from ansinh.accounts.services import create_api_token, create_org_unit
from ansinh.api.urls import api
from ansinh.notifications.services import queue as notify
from ansinh.policy.services import load_policy
from ansinh.quality.services import refresh as refresh_worklists
from ansinh.registry import import_jobs, services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import DecisionKind, ImportStatus
from ansinh.verification.services import run_verification
from tests.conftest import ensure_data_migrations, make_user
from tests.factories import cccd_for, import_row, import_xlsx

# --- what is walked -----------------------------------------------------------------------------

# Top-level namespaces not walked here, with the reason.
SKIPPED_NAMESPACES = {
    "admin": "Django's admin: staff only, with its own permission checks (tests/web/test_admin.py)",
    "api": "the API is walked operation by operation from its OpenAPI schema",
    "sandbox_bank": "the sandbox bank's machine endpoint (no session: its own X-API-Key, 401 without it), mounted "
    "only while the sandbox is the bank; tests/disbursement/test_cli_and_bank.py",
}
# Public on purpose: anyone may open them.
PUBLIC = {
    "login": "the login form",
    "logout": "logging out (POST)",
    "set_language": "the language switch",
    "healthz": "the health check for the load balancer",
}
# Namespaces of pages about the user's own account: every signed-in user may write there, but
# only their own rows (another user's token is a 404).
OWN_ACCOUNT = {"account"}
# Namespaces of the public site (no sign-in, mounted at the root: /tra-cuu/ …), walked by
# `walk_public`: every persona gets 200 on a GET; a POST without proof (the walk's body, then each
# of the page's own forms filled with A's people's numbers but never the proof that goes with
# them: phone digits, a code) answers below 500, shows nothing of A and writes nothing but what
# PUBLIC_WRITES allows that page.
PUBLIC_NAMESPACES = {"public"}


def _lookup_write(label: str, old: dict | None, new: dict | None) -> bool:
    """The status lookup logs every attempt and counts it against its rate limits (lookup.*); a
    code asked for a registered CCCD is an SMS to the registered phone (the outbox row and its
    audit event, no actor). Nothing else, and nothing deleted but the lookup's expired rows."""
    if label.startswith("lookup."):
        return True
    row = new or {}
    if old is not None:
        return False
    if label == "notifications.message":
        return row.get("template_key") == "lookup.code"
    if label == "audit.auditevent":
        return row.get("action") == "notifications.queued" and row.get("actor_id") is None
    return False


# What a public page may write for a request without proof: URL name → (label, old, new) → allowed.
def _application_write(label: str, old: dict | None, new: dict | None) -> bool:
    """The application form and status page count every attempt against their rate limits
    (applications.publicattempt); anyone may apply, so a form that is valid creates an application
    with its documents and the audit event of its receipt (no actor). Nothing changed or deleted."""
    row = new or {}
    if old is not None:
        return False
    if label in ("applications.publicattempt", "applications.application", "applications.attachment"):
        return True
    return label == "audit.auditevent" and row.get("action") == "applications.submitted" and row.get("actor_id") is None


def _complaint_write(label: str, old: dict | None, new: dict | None) -> bool:
    """Anyone may lodge a complaint or feedback (rate-limited per client): a new online complaint
    with no beneficiary linked (its reference is set once its row number is known) and its audit
    event, no actor. Nothing else."""
    row = new or {}
    if label == "complaints.complaint":
        first = old or row
        return first.get("channel") == "online" and first.get("beneficiary_id") is None and new is not None
    if label == "audit.auditevent":
        return old is None and row.get("action") == "complaints.complaint.lodged" and row.get("actor_id") is None
    return False


def _complaint_status_write(label: str, old: dict | None, new: dict | None) -> bool:
    """A status check that found nothing is counted for the rate limit (complaints.statuscheck)."""
    return label == "complaints.statuscheck" and old is None


PUBLIC_WRITES = {
    "public:lookup": _lookup_write,
    "public:complaint_new": _complaint_write,
    "public:complaint_status": _complaint_status_write,
    "public:application_form": _application_write,
    "public:application_status": _application_write,
}

# Path parameters, by name: which of a commune's objects fills it. Where the name says too little
# (`pk`), by URL name, else by namespace.
PATH_PARAMS: dict[str, str | dict[str, str]] = {
    "pk": {
        "areas": "commune",
        "registry": "beneficiary",
        "payments": "beneficiary",
        "registry:move_accept": "move",
        "imports": "job",
        "account": "token",
        "verification": "run",
        "account_changes": "change",
        "payroll": "cycle",
        "payroll:contract": "contract",
        "complaints": "complaint",
        "applications": "application",
    },
    "cycle_id": "cycle",
    "account_pk": "account",
    "account_id": "account",
    "change_id": "change",
    "link_pk": "link",
    "beneficiary_id": "beneficiary",
    "representation_id": "link",
    "area_id": "commune",
    "move_id": "move",
    "run_id": "run",
    "request_id": "opening_request",
    # an account-opening batch (openings), a provider batch of transfers (payroll, the API's disbursement)
    "batch_id": {
        "openings": "opening_batch",
        "/api/v1/openings/batches/{batch_id}/results": "opening_batch",
        "payroll": "provider_batch",
        "api": "provider_batch",
    },
    "exc_id": "transfer_exception",
    "job_id": "status_import",
    "fmt": "file_format",
    "list_id": "change_list",
    "item_id": "change_item",
    "receivable_id": "receivable",
    # cash pay-out (issue 12): a pay point, a home-delivery route, a cash list of the cycle
    "pay_point_id": "pay_point",
    "route_id": "route",
    "cash_list_id": "cash_list",
    "entry_id": "cash_entry",
    "follow_up_id": "follow_up",
    "complaint_id": "complaint",
    "application_id": "application",
    "attachment_id": "attachment",
    # a background export of a monitoring list (reports.ExportJob), asked for by the commune's officer
    "export_id": "export_job",
    # a commune's official code (the public posting of applications)
    "code": {"public:application_posting": "commune_code"},
    # a statutory table (reports:bieu and GET /api/reports/{bieu}): bieu01, bieu02 or bieu03
    "bieu": "bieu",
    # a bank statement and a reconciliation exception (issue 13 part 2)
    "statement_id": "statement_import",
    "recon_id": "recon_exception",
    "contract_id": "contract",
}
# Query and body fields that name an object: filled with A's object to probe for leaks.
REFERENCES = {
    "commune": "commune",
    "commune_id": "commune",
    "to_commune": "commune",
    "to_commune_id": "commune",
    "village": "village",
    "village_id": "village",
    "to_village": "village",
    "to_village_id": "village",
    "area": "commune",
    "area_id": "commune",
    "parent": "commune",
    "representation": "link",
    "representation_id": "link",
    "beneficiary": "beneficiary",
    "beneficiary_id": "beneficiary",
    "cycle_id": "cycle",
    "pay_point_id": "pay_point",
}
# API query parameters that name no object (searched with A's name and numbers below, or plain).
PLAIN_QUERY_PARAMS = {
    "q",
    "tree",  # the statutory reports (GET /api/reports/{bieu}): area tree, period and cut-off date
    "from",
    "to",
    "as_of",
    "cccd",
    "phone",
    "status",
    "category",
    "needs",
    "issues",
    "page",
    "page_size",
    "level",
    "include_ended",
    "outcome",
    "kind",
    "month",
    "state",
    "after",
    "limit",
    "year",
    "channel",
    "format",
    "active",
    "routed_to",
    "overdue",
    "purpose",  # a contract purpose (reconciliation settlements)
    "quarter",  # a quarter of a year (settlement summaries)
}

# Cases that fail today because of a defect being fixed elsewhere: (case id) → reason.
KNOWN_DEFECTS: dict[str, str] = {}

# --- commune A's objects and the markers that must not reach B -----------------------------------

BEN_NAME = "Ôn Thị Kiểm Tra"
BEN_BIRTH = date(1950, 5, 17)
BEN_PHONE = "0977111222"
REP_NAME = "Tạ Văn Đại Diện"
REP_BIRTH = date(1975, 3, 4)
REP_PHONE = "0966333444"
DECISION_NUMBER = "77/QĐ-KTRA"
ORG_NAME = "UBND phường Kiểm Tra A"
FILE_NAME = "ds-kiem-tra-xa-a.xlsx"
TOKEN_NAME = "token-kiem-tra-a"
MOVER_NAME = "Mã Thị Chuyển Về"
NOTICE_PLACE = "Diem chi tra Kiem Tra A"  # in an SMS to A's beneficiary (notification outbox)
APPLICANT_A = "Đinh Thị Xin Trợ Cấp"


@dataclass
class Side:
    """One commune and its objects."""

    commune: object
    village: object
    beneficiary: object
    link: object
    job: object
    token: object
    move: object  # a move decided by another commune towards this one, waiting for its decision
    officer: object
    run: object = None  # an identity-verification run of the commune
    opening_request: object = None  # an account-opening request of the beneficiary (exported)
    opening_batch: object = None  # the batch of the commune sent to the bank
    account: object = None  # a receiving account of the beneficiary
    change: object = None  # a change to that account, awaiting approval
    cycle: object = None  # a payment cycle of the commune (its People's Committee approves)
    contract: object = None  # the commune's contract with the payment provider
    change_list: object = None  # the commune's change list of that cycle (payroll.changelists)
    change_item: object = None  # a manual adjustment on it
    receivable: object = None  # an overpayment of the beneficiary to recover (payroll.receivables)
    provider_batch: object = None  # a batch of transfers of the cycle (disbursement)
    transfer_exception: object = None  # a rejected transfer of that batch, for the office to resolve
    status_import: object = None  # a status file imported for the batch
    pay_point: object = None  # the commune's pay point (cashout)
    route: object = None  # its home-delivery route
    cash_list: object = None  # the pay point's cash list of the cycle, with an entry for the beneficiary
    cash_entry: object = None  # that entry
    follow_up: object = None  # an account flagged after its holder could not withdraw at the pay point
    complaint: object = None  # a complaint taken by phone, about the beneficiary's line and exception
    file_format: str = "pain001"  # a file format of a batch in the pages' URLs (not an object)
    application: object = None  # an application for the allowance received at the counter (not posted)
    attachment: object = None  # its document
    commune_code: str = ""  # the commune's official code (not an object)
    export_job: object = None  # a monitoring list written in the background for the commune's officer
    bieu: str = "bieu02"  # a statutory table in the reports' URLs (not an object)
    statement_import: object = None  # a bank statement of the contract's funded account (reconciliation)
    recon_exception: object = None  # a reconciliation exception of the cycle about the beneficiary

    def value(self, attr: str) -> int | str:
        found = getattr(self, attr)
        return found if isinstance(found, str) else found.pk


@dataclass
class World:
    a: Side
    b: Side
    viewer: object
    markers: dict[str, str] = field(default_factory=dict)  # text → what it is
    names: set[str] = field(default_factory=set)  # markers an outsider may see (a person's name)


def phone_forms(local: str) -> list[str]:
    return [local, "+84" + local[1:], f"{local[:4]} {local[4:7]} {local[7:]}"]


def _tree():
    """The tree of tests/conftest.py (province 89 → district 884 → communes A, B; a village in A)
    and a third commune, C, whose people move to A and to B."""
    from ansinh.areas.models import Area, Level, Tree

    def make(level, name, parent=None, code="", kind="Phường"):
        return Area.objects.create(
            tree=Tree.LEGACY, level=level, code=code, name=name, division_type=kind, parent=parent
        )

    province = make(Level.PROVINCE, "An Giang", code="89", kind="Tỉnh")
    district = make(Level.DISTRICT, "Châu Đốc", province, code="884", kind="Thành phố")
    a = make(Level.COMMUNE, "Châu Phú A", district, code="30280")
    b = make(Level.COMMUNE, "Vĩnh Mỹ", district, code="30283")
    c = make(Level.COMMUNE, "Núi Sam", district, code="30286")
    village_a = make(Level.VILLAGE, "Khóm Châu Long 1", a, kind="")
    return a, b, c, village_a


def _register(actor, commune, village, *, full_name, birth_date, gender, cccd, phone, decision_number, reps):
    data = BeneficiaryInput(
        full_name=full_name,
        birth_date=birth_date,
        gender=gender,
        commune_id=commune.pk,
        village_id=village.pk if village else None,
        cccd=cccd,
        phone=phone,
        categories=[CategoryInput(code="D20.5.6")],
        decision_number=decision_number,
        decision_date=date(2025, 1, 10),
        representatives=[RepresentationInput(person=PersonInput(**r.pop("person")), **r) for r in reps],
    )
    return services.create_beneficiary(actor=actor, data=data)


def _move(origin, to, full_name: str, tail: str):
    """A person of commune `origin` whose commune decided their move to `to`."""
    birth = date(1945, 4, 5)
    person = _register(
        None,
        origin,
        None,
        full_name=full_name,
        birth_date=birth,
        gender="female",
        cccd=cccd_for(birth, "female", tail),
        phone="",
        decision_number="1/QĐ-C",
        reps=[],
    )
    return services.record_decision(
        actor=None,
        beneficiary=person,
        kind=DecisionKind.MOVE,
        number="2/QĐ-C",
        signed_on=date(2025, 7, 1),
        event_date=date(2025, 6, 10),
        to_commune=to,
    )


def _account_change(side: Side):
    from ansinh.payments import services as payments
    from ansinh.payments.models import Institution

    account = payments.register_account(
        actor=side.officer,
        beneficiary=side.beneficiary,
        kind="bank",
        institution=Institution.objects.get(code="VBA"),
        number=f"76022050{side.beneficiary.pk:07d}",
        holder_name="KIEM TRA",
    )
    change = payments.request_account_change(actor=side.officer, beneficiary=side.beneficiary, account=account)
    return account, change


CONTRACT_A = "HĐ-KIEM-TRA-A/2026"


def _payment_cycle(side: Side, name: str, number: str):
    """The commune's People's Committee approves its payroll (as since 2025): its cycles of this
    month, and its contract with the district post office."""
    from ansinh.accounts.models import Function
    from ansinh.accounts.services import assign_responsibility
    from ansinh.payroll import services as payroll
    from ansinh.payroll.models import ContractPurpose, FeeKind, PaymentCycle

    commune = side.commune
    unit = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name=name, area=commune)
    post = create_org_unit(actor=None, kind=OrgKind.PROVIDER, name="Bưu điện Kiểm Tra", area=commune.parent)
    assign_responsibility(actor=None, org_unit=unit, area=commune, function=Function.APPROVE)
    payroll.open_cycles(actor=None, month=TODAY, area=commune)
    contract = payroll.create_contract(
        actor=None,
        data=payroll.ContractInput(
            number=number,
            paying_unit=unit,
            provider=post,
            areas=[commune],
            purpose=ContractPurpose.REGULAR,
            valid_from=TODAY.replace(month=1, day=1),
            valid_to=TODAY.replace(month=12, day=31),
            fee_kind=FeeKind.FLAT,
            fee_flat=5000,
        ),
    )
    return PaymentCycle.objects.filter(approving_unit=unit).order_by("programme__code").first(), contract


def _change_list(side: Side):
    from ansinh.payroll import changelists
    from ansinh.payroll.models import ChangeList

    changelists.build_change_lists(actor=None, cycle=side.cycle)
    cl = ChangeList.objects.get(cycle=side.cycle, commune=side.commune)
    item = changelists.add_manual_item(
        actor=side.officer, change_list=cl, beneficiary=side.beneficiary, amount=100_000, reason="Truy lĩnh kiểm tra"
    )
    return cl, item


def _receivable(side: Side):
    from ansinh.payroll.models import Receivable

    b = side.beneficiary
    return Receivable.objects.create(
        beneficiary=b,
        programme=side.cycle.programme,
        debtor_name=b.full_name,
        reason="manual",
        amount=200_000,
        area_path=b.area_path,
        note="Kiểm tra",
    )


def _disbursement(side: Side) -> None:
    """A batch of transfers of the side's cycle, sent to the bank, with a transfer the bank
    rejected (an exception for the office) and the status file that said so. Written directly:
    the walk needs the rows, not an approved and funded month."""
    from django.utils import timezone

    from ansinh.disbursement.models import (
        BatchState,
        ExceptionKind,
        ImportSource,
        ImportState,
        Instruction,
        InstructionState,
        ProviderBatch,
        StatusImport,
        TransferException,
    )
    from ansinh.payroll.models import Channel, PayrollLine

    cycle, b = side.cycle, side.beneficiary
    now = timezone.now()
    batch = ProviderBatch.objects.create(
        cycle=cycle,
        provider=side.contract.provider,
        contract=side.contract,
        message_id=f"ANS-C{cycle.pk}-P{side.contract.provider_id}-1",
        state=BatchState.REPORTED,
        approval_hash="0" * 64,
        instructions_count=1,
        total_amount=500_000,
        area_path=cycle.area_path,
        created_at=now,
        exported_at=now,
        submitted_at=now,
    )
    line = PayrollLine.objects.create(
        cycle=cycle,
        beneficiary=b,
        amount=500_000,
        payee_name=b.full_name,
        channel=Channel.ACCOUNT,
        account=side.account,
        account_institution="VBA",
        account_last4=side.account.last4,
        account_holder=side.account.holder_name,
        area_path=b.area_path,
        commune=side.commune,
    )
    instruction = Instruction.objects.create(
        batch=batch,
        line=line,
        end_to_end_id=f"ANS-{line.pk}-1",
        amount=500_000,
        creditor_name=side.account.holder_name,
        account=side.account,
        institution_code="VBA",
        institution_bin="970405",
        account_last4=side.account.last4,
        remittance="Tro cap",
        state=InstructionState.REJECTED,
        bank_status="RJCT",
        reason_code="AC04",
        status_at=now,
        commune=side.commune,
        area_path=b.area_path,
        in_file=True,
    )
    side.provider_batch = batch
    side.transfer_exception = TransferException.objects.create(
        kind=ExceptionKind.REJECTED,
        instruction=instruction,
        batch=batch,
        line=line,
        commune=side.commune,
        area_path=b.area_path,
        detail={"amount": 500_000, "reason_code": "AC04"},
    )
    side.status_import = StatusImport.objects.create(
        source=ImportSource.PAIN002,
        file_name=f"tra-loi-{side.commune.code}.xml",
        checksum=f"{side.commune.pk:064d}",
        original_message_id=batch.message_id,
        batch=batch,
        state=ImportState.APPLIED,
        area_path=batch.area_path,
        summary={
            "rows": 1,
            "outcomes": {"applied": 1},
            "per_status": {"rejected": 1},
            "amounts": {"rejected": 500_000},
        },
    )


def _reconciliation(side: Side) -> None:
    """An imported statement of the contract's funded account (one unknown entry) and the
    reconciliation exception of the rejected transfer (written directly: the walk needs rows)."""
    from ansinh.reconciliation.models import (
        EntryKind,
        EntryOutcome,
        ReconException,
        StatementEntry,
        StatementImport,
    )

    job = StatementImport.objects.create(
        source="camt.053",
        file_name=f"sao-ke-{side.commune.code}.xml",
        checksum=f"{side.commune.pk:064d}",
        provider=side.contract.provider,
        contract=side.contract,
        account_number="1234567890123",
        state="applied",
        area_path=side.contract.area_path,
        entries_count=1,
    )
    StatementEntry.objects.create(
        job=job,
        row_number=1,
        direction="debit",
        amount=77_000,
        end_to_end_id="KHONG-RO",
        kind=EntryKind.OTHER,
        outcome=EntryOutcome.UNKNOWN,
        area_path=job.area_path,
    )
    side.statement_import = job
    exc = side.transfer_exception
    side.recon_exception = ReconException.objects.create(
        kind="transfer_failed",
        key=f"te:{exc.pk}",
        cycle=side.cycle,
        line=exc.line,
        beneficiary=side.beneficiary,
        instruction=exc.instruction,
        transfer_exception=exc,
        amount=500_000,
        commune=side.commune,
        area_path=exc.area_path,
        owner_role="office_officer",
        due_date=TODAY,
    )


def _complaint(side: Side):
    """A complaint taken by phone in the commune (in A by the representative, about the
    beneficiary, whose CCCD links it), linked to the rejected transfer and its line."""
    from ansinh.complaints import services as complaints

    complaint = complaints.lodge_by_staff(
        actor=side.officer,
        channel="phone",
        kind="complaint",
        topic="not_paid",
        commune=side.commune,
        name=side.link.representative.full_name,
        phone=side.link.representative.phone,
        cccd=side.beneficiary.cccd,
        text="Chưa nhận được tiền chuyển khoản tháng này (kiểm tra).",
    )
    exc = side.transfer_exception
    return complaints.link_records(actor=side.officer, complaint=complaint, lines=[exc.line], exceptions=[exc])


PAY_POINT_A = "Điểm chi trả Kiểm Tra A"


def _cash_places(side: Side, name: str) -> None:
    """The commune's pay point (with pay days) and home-delivery route, made through the services,
    and the pay point's cash list of the cycle with an entry for the beneficiary. The list is
    written directly: the walk needs the rows, not a funded month."""
    from datetime import time

    from django.utils import timezone

    from ansinh.cashout import pay_points
    from ansinh.cashout.models import CashEntry, CashList

    commune = side.commune
    side.pay_point = pay_points.create_pay_point(
        actor=side.officer,
        commune=commune,
        data=pay_points.PayPointInput(name=name, kind="post_office", address="1 Kiểm Tra", atm_nearby=True),
    )
    side.route = pay_points.create_route(
        actor=side.officer, commune=commune, data=pay_points.RouteInput(name=f"Tuyến {name}")
    )
    deadline = pay_points.transfers_deadline(commune, TODAY)
    pay_points.set_pay_days(
        actor=side.officer,
        month=TODAY,
        days=[pay_points.DayInput(day=deadline, opens=time(7), closes=time(11))],
        pay_point=side.pay_point,
    )
    side.cash_list = CashList.objects.create(
        cycle=side.cycle,
        kind="pay_point",
        pay_point=side.pay_point,
        commune=commune,
        area_path=commune.path,
        entries_count=1,
        total_amount=500_000,
        built_at=timezone.now(),
    )
    b = side.beneficiary
    side.cash_entry = CashEntry.objects.create(
        cash_list=side.cash_list,
        cycle=side.cycle,
        beneficiary=b,
        village=b.village,
        position=1,
        payee_name=b.full_name,
        amount=500_000,
        commune=commune,
        area_path=b.area_path,
    )


def _cash_follow_up(side: Side) -> None:
    """A withdrawal the beneficiary could not make at the pay point (no OTP) and the account
    follow-up it opened. Written directly: the walk needs the rows, not a credited month."""
    from django.utils import timezone

    from ansinh.cashout.models import AccountFollowUp, Withdrawal

    b = side.beneficiary
    withdrawal = Withdrawal.objects.create(
        cycle=side.cycle,
        beneficiary=b,
        pay_point=side.pay_point,
        account=side.account,
        outcome="cannot",
        reason="no_otp",
        idempotency_key=f"walk-withdrawal-{side.commune.pk}",
        occurred_at=timezone.now(),
        recorded_by=side.officer,
        commune=side.commune,
        area_path=b.area_path,
    )
    side.follow_up = AccountFollowUp.objects.create(
        account=side.account,
        beneficiary=b,
        withdrawal=withdrawal,
        reason="no_otp",
        commune=side.commune,
        area_path=b.area_path,
    )


def _openings(side: Side) -> None:
    """An account-opening request of the side's beneficiary, confirmed and sent in a batch; in A
    also one for the representative, awaiting the commune."""
    from ansinh.openings import services as openings

    req = openings.request_opening(actor=side.officer, beneficiary=side.beneficiary)
    openings.confirm_requests(actor=side.officer, requests=[req])
    side.opening_batch = openings.export_batch(actor=side.officer, commune=side.commune)
    side.opening_request = req
    if side.link.representative.cccd:
        openings.request_opening(actor=side.officer, beneficiary=side.beneficiary, representation=side.link)


def _application(side: Side, name: str):
    """An application for the allowance received at the commune's counter, with a document."""
    from ansinh.applications import services as applications
    from ansinh.applications.files import Upload

    birth = date(1941, 8, 9)
    app = applications.submit_at_counter(
        actor=side.officer,
        data=applications.ApplicantInput(
            full_name=name,
            birth_date=birth,
            gender="female",
            cccd=cccd_for(birth, "female", f"7{side.commune.pk:05d}"),
            phone="0944555666",
            commune_id=side.commune.pk,
            entitlement="D20.5.5.c||",
        ),
        uploads=[Upload(kind="cccd_copy", file=SimpleUploadedFile("cccd.pdf", b"%PDF-1.4 kiem tra"))],
    )
    return app, app.attachments.get()


def _build_world() -> World:
    """Commune A's objects (and B's own, for officer_b acting in B), made through the services."""
    tree_a, tree_b, tree_c, village_a = _tree()
    load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)
    officer_a = make_user("officer_a", Role.COMMUNE_OFFICER, tree_a)
    viewer_a = make_user("viewer_a", Role.PROVINCE_MONITOR, tree_a)
    officer_b = make_user("officer_b", Role.COMMUNE_OFFICER, tree_b)

    create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name=ORG_NAME, area=tree_a)
    rep_cccd = cccd_for(REP_BIRTH, "male", "731001")
    rep = {
        "person": {
            "full_name": REP_NAME,
            "birth_date": REP_BIRTH,
            "gender": "male",
            "cccd": rep_cccd,
            "phone": REP_PHONE,
        },
        "kind": "authorised",
        "is_payee": True,
    }
    b_a = _register(
        officer_a,
        tree_a,
        village_a,
        full_name=BEN_NAME,
        birth_date=BEN_BIRTH,
        gender="female",
        cccd=cccd_for(BEN_BIRTH, "female", "731002"),
        phone=BEN_PHONE,
        decision_number=DECISION_NUMBER,
        reps=[rep],
    )
    content = import_xlsx(
        [
            import_row(
                full_name="Lâm Văn Nhập",
                birth_date="03/02/1941",
                gender="Nam",
                cccd=cccd_for(date(1941, 2, 3), "male", "731003"),
                category="D20.5.6",
                condition="severe:adult",
                decision_number="78/QĐ-KTRA",
                decision_date="10/01/2024",
            )
        ]
    )
    job_a = import_jobs.start_import(actor=officer_a, commune=tree_a, upload=SimpleUploadedFile(FILE_NAME, content))
    assert job_a.status == ImportStatus.VALIDATED, job_a.message
    token_a, _raw = create_api_token(actor=officer_a, user=officer_a, name=TOKEN_NAME)

    b_b = _register(
        officer_b,
        tree_b,
        None,
        full_name="Hồ Văn Bê",
        birth_date=date(1948, 2, 3),
        gender="male",
        cccd=cccd_for(date(1948, 2, 3), "male", "731004"),
        phone="0955444333",
        decision_number="5/QĐ-B",
        reps=[
            {
                "person": {"full_name": "Hồ Thị Bê Con", "birth_date": date(1980, 1, 1), "gender": "female"},
                "kind": "authorised",
            }
        ],
    )
    job_b = import_jobs.start_import(
        actor=officer_b, commune=tree_b, upload=SimpleUploadedFile("ds-b.xlsx", import_xlsx([]))
    )
    token_b, _raw = create_api_token(actor=officer_b, user=officer_b, name="token-b")

    move_a, move_b = (
        _move(tree_c, to, name, tail)
        for to, name, tail in ((tree_a, MOVER_NAME, "731005"), (tree_b, "Mã Văn Cê", "731006"))
    )

    run_a, run_b = (
        run_verification(actor=make_user(f"police_{x}", Role.COMMUNE_POLICE, area), commune=area)
        for x, area in (("a", tree_a), ("b", tree_b))
    )
    # an SMS to A's beneficiary in the notification outbox: its phone is a marker
    notify(
        actor=None,
        key="payment.ready",
        variables={"name": "Kiem Tra", "month": "10/2026", "amount": "1.500.000", "place": NOTICE_PLACE},
        idempotency_key="walk-a",
        beneficiary=b_a,
    )
    a = Side(tree_a, village_a, b_a, b_a.representations.get(), job_a, token_a, move_a, officer_a, run_a)
    b = Side(tree_b, None, b_b, b_b.representations.get(), job_b, token_b, move_b, officer_b, run_b)
    for side in (a, b):  # a receiving account waiting for a second person's approval
        side.account, side.change = _account_change(side)
        _openings(side)
    a.cycle, a.contract = _payment_cycle(a, ORG_NAME, CONTRACT_A)
    b.cycle, b.contract = _payment_cycle(b, "UBND Vĩnh Mỹ (kiểm tra)", "HĐ-B/2026")
    for side in (a, b):  # the commune's change list, with a manual adjustment
        side.change_list, side.change_item = _change_list(side)
        side.receivable = _receivable(side)
        _disbursement(side)
    for side, name in ((a, PAY_POINT_A), (b, "Điểm chi trả Vĩnh Mỹ")):  # cash pay-out
        _cash_places(side, name)
        _cash_follow_up(side)
    for side in (a, b):
        side.complaint = _complaint(side)
    for side in (a, b):  # a bank statement and a reconciliation exception (issue 13 part 2)
        _reconciliation(side)
    for side in (a, b):  # a monitoring list the officer exported (issue 13)
        from ansinh.reports.models import ExportJob

        side.export_job = ExportJob.objects.create(
            kind="without_account",
            area=side.commune,
            area_path=side.commune.path,
            month=TODAY.replace(day=1),
            requested_by=side.officer,
        )
    for side, name in ((a, APPLICANT_A), (b, "Lò Văn Nộp Bê")):  # an application received at the counter
        side.application, side.attachment = _application(side, name)
        side.commune_code = side.commune.code
    # the worklists as the nightly refresh_worklists leaves them (the page itself writes nothing;
    # its refresh button is a POST)
    refresh_worklists()
    markers = {
        BEN_NAME: "A's beneficiary's name",
        b_a.cccd: "A's beneficiary's CCCD",
        REP_NAME: "A's representative's name",
        rep_cccd: "A's representative's CCCD",
        REP_BIRTH.isoformat(): "A's representative's date of birth",
        REP_BIRTH.strftime("%d/%m/%Y"): "A's representative's date of birth",
        DECISION_NUMBER: "A's decision number",
        MOVER_NAME: "the person moving to A",
        ORG_NAME: "A's organisation unit",
        FILE_NAME: "A's import file",
        TOKEN_NAME: "officer_a's token name",
        token_a.key_prefix: "officer_a's token",
        tree_a.name: "commune A",
        village_a.name: "A's village",
        NOTICE_PLACE: "the text of an SMS to A's beneficiary",
        CONTRACT_A: "A's contract with the payment provider",
        PAY_POINT_A: "A's pay point",
        APPLICANT_A: "A's applicant's name",
        a.application.reference: "A's application's reference",
    }
    markers |= dict.fromkeys(phone_forms(BEN_PHONE), "A's beneficiary's phone")
    markers |= dict.fromkeys(phone_forms(REP_PHONE), "A's representative's phone")
    # An officer elsewhere may be told a person's name and commune (a likely duplicate, a CCCD
    # registered to someone else) but nothing more.
    names = {BEN_NAME, REP_NAME, tree_a.name, village_a.name}
    return World(a=a, b=b, viewer=viewer_a, markers=markers, names=names)


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at its end; each test
    runs in a savepoint inside it (pytest-django's `db`), so what a test writes is undone."""
    media = tmp_path_factory.mktemp("media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            ensure_data_migrations()  # a transactional test on this worker may have flushed them
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_world, db):
    return _world


# --- enumerating the URLs and operations ---------------------------------------------------------


@dataclass(frozen=True)
class Target:
    kind: str  # "web" or "api"
    name: str  # URL name, or the API path template
    namespace: str
    params: tuple[str, ...]  # path parameters
    methods: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.kind} {self.name}"


def _web_targets(resolver=None, namespace: str = "", converters: tuple = ()):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        names = tuple(getattr(p.pattern, "converters", {})) + tuple(p.pattern.regex.groupindex)
        params = converters + tuple(n for n in names if n not in converters)
        if isinstance(p, URLResolver):
            if not namespace and p.namespace in SKIPPED_NAMESPACES:
                continue
            inner = ":".join(x for x in (namespace, p.namespace) if x)
            yield from _web_targets(p, inner, params)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name or f"<unnamed {p.pattern}>"
            if name in PUBLIC:
                continue
            yield Target("web", name, namespace.split(":")[0], params, ("GET", "POST"))


def _api_targets():
    for path, operations in api.get_openapi_schema()["paths"].items():
        params = tuple(p["name"] for op in operations.values() for p in op.get("parameters", []) if p["in"] == "path")
        methods = tuple(m.upper() for m in operations)
        yield Target("api", path, "api", tuple(dict.fromkeys(params)), methods)


TARGETS = [*_web_targets(), *_api_targets()]
PERSONAS = ["anonymous", "viewer_a", "officer_b", "officer_b_in_b"]


def _cases():
    for target in TARGETS:
        for persona in PERSONAS:
            case = f"{target.id} [{persona}]"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[case])] if case in KNOWN_DEFECTS else []
            yield pytest.param(target, persona, id=case, marks=marks)


# --- what the database holds ---------------------------------------------------------------------

IGNORED_MODELS = {"sessions.session"} | {f"axes.{m}" for m in ("accessattempt", "accesslog", "accessfailurelog")}
IGNORED_MODELS |= {"axes.accessattemptexpiration", "auth.permission", "contenttypes.contenttype"}  # migrations only
# the reports' aggregate tables: derived data a reader computes again from what others wrote
# (ansinh.reports.facts), not a write of the reader's
IGNORED_MODELS |= {f"reports.{m}" for m in ("stalefact", "communemonthfact", "personyearfact", "communegroupfact")}
VOLATILE_FIELDS = {"accounts.user": {"last_login"}, "accounts.apitoken": {"last_used_at"}}


def db_state() -> dict[str, dict[object, dict]]:
    state = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in IGNORED_MODELS or model._meta.proxy or not model._meta.managed:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in VOLATILE_FIELDS.get(label, ())]
        state[label] = {row["pk"]: row for row in model._base_manager.order_by().values("pk", *fields)}
    return state


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@dataclass
class Snapshot:
    rows: dict
    files: set


def snapshot() -> Snapshot:
    return Snapshot(db_state(), media_files())


def changes(before: Snapshot, after: Snapshot) -> list[tuple[str, object, dict | None, dict | None]]:
    out = []
    for label, rows in after.rows.items():
        old = before.rows.get(label, {})
        for pk in rows.keys() | old.keys():
            if old.get(pk) != rows.get(pk):
                out.append((label, pk, old.get(pk), rows.get(pk)))
    out += [("file", name, None, {}) for name in after.files - before.files]
    out += [("file", name, {}, None) for name in before.files - after.files]
    return out


def _own(label: str, row: dict, user) -> bool:
    """The user's own API token, or an audit event recording what the user did (an export is
    logged; any other change it goes with is checked on its own)."""
    if user is None:
        return False
    if label in ("accounts.apitoken", "otp_totp.totpdevice"):  # own tokens, own authenticator app
        return row["user_id"] == user.pk
    if label == "audit.auditevent":
        return row["actor_id"] == user.pk
    if label == "reports.exportjob":  # a list the user asked to export (monitoring), logged as an export
        return row["requested_by_id"] == user.pk
    return False


def _beneficiaries_in(state: Snapshot, paths) -> set:
    return {
        pk
        for pk, row in state.rows["registry.beneficiary"].items()
        if any(row["area_path"].startswith(p) for p in paths)
    }


def _inside(row: dict, paths, beneficiary_ids: set) -> bool:
    """A row that belongs to one of the areas at `paths` (directly, or through its beneficiary)."""
    for path_field in ("area_path", "path"):
        if path_field in row:
            return any(row[path_field].startswith(p) for p in paths)
    if "beneficiary_id" in row:
        return row["beneficiary_id"] in beneficiary_ids
    return False


def forbidden_changes(before: Snapshot, after: Snapshot, user, *, home=(), protected=()) -> list:
    """Changes the request must not have made. Allowed: the user's own tokens and the record of
    what they did, and, with `home`, rows that end up inside those areas, unless any version of
    the row is inside the `protected` areas."""
    home_ids = _beneficiaries_in(after, home)
    protected_ids = _beneficiaries_in(before, protected) | _beneficiaries_in(after, protected)
    bad = []
    for label, pk, old, new in changes(before, after):
        if label == "file":
            if not (home and new is not None):  # an upload stored for an import job at home
                bad.append((label, pk, old, new))
            continue
        versions = [r for r in (old, new) if r]
        if all(_own(label, r, user) for r in versions):
            continue
        at_home = new is None or _inside(new, home, home_ids)
        if home and at_home and not any(_inside(r, protected, protected_ids) for r in versions):
            continue
        bad.append((label, pk, old, new))
    return bad


# --- requests and answers ------------------------------------------------------------------------


def text_of(response) -> str:
    """What a person or a program can read in the answer: HTML, JSON (non-ASCII unescaped),
    the cells of an XLSX."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = [archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".xml")]
        return html.unescape(" ".join(parts))
    if "json" in response.get("Content-Type", "") and content:
        return json.dumps(json.loads(content), ensure_ascii=False)
    return html.unescape(content.decode("utf-8", "replace"))


def leaked(world: World, text: str, *, sent: str = "", names_allowed: bool = False, public: bool = False) -> list[str]:
    """The markers of A in `text`. On a public page (`public`), the names of A's commune and
    village are public geography (a form offers the communes): only the rest counts."""
    areas = {world.a.commune.name, world.a.village.name} if public else set()
    return sorted(
        f"{what} ({marker!r})"
        for marker, what in world.markers.items()
        if marker in text
        and marker not in sent
        and not (names_allowed and marker in world.names)
        and marker not in areas
    )


def client_for(persona: str, world: World, kind: str) -> tuple[Client, object]:
    user = {"anonymous": None, "viewer_a": world.viewer, "officer_b": world.b.officer}.get(persona, world.b.officer)
    if user is None:
        return Client(), None
    if kind == "api":
        _token, raw = create_api_token(actor=None, user=user, name=f"walk-{persona}")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), user
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client, user


def path_spec(target: Target, param: str) -> str | None:
    spec = PATH_PARAMS.get(param)
    if isinstance(spec, dict):
        spec = spec.get(target.name, spec.get(target.namespace))
    return spec


def path_value(target: Target, param: str, side: Side) -> int:
    spec = path_spec(target, param)
    if spec is None:
        pytest.fail(
            f"{target.id}: no object for the path parameter {param!r}"
            + (f" in namespace {target.namespace!r}" if target.namespace else "")
            + ". Add it to PATH_PARAMS in tests/access/test_every_url.py (and the object to the `world` "
            "fixture if it is a new kind), so the walk can check who may reach it."
        )
    return side.value(spec)


def url_of(target: Target, side: Side) -> str:
    values = {p: path_value(target, p, side) for p in target.params}
    if target.kind == "web":
        return reverse(target.name, kwargs=values)
    return target.name.format(**values)


def references(world: World, names=None) -> dict[str, int]:
    return {k: world.a.value(v) for k, v in REFERENCES.items() if names is None or k in names}


def searches(world: World) -> list[dict[str, str]]:
    """Look-ups of A's people by name and number, which must find nothing for an outsider."""
    a = world.a.beneficiary
    return [{"q": BEN_NAME}, {"q": a.cccd}, {"q": BEN_PHONE}, {"cccd": a.cccd, "phone": BEN_PHONE}]


# --- the API's bodies, generated from the schema ---------------------------------------------------

SCHEMA = api.get_openapi_schema()
TODAY = date.today()


def _deref(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(schema: dict, values: dict, path: str = ""):
    """A value the schema accepts, taking `values[path]` or `values[name]` where given."""
    schema = _deref(schema)
    name = path.rsplit(".", 1)[-1]
    for key in (path, name):
        if key in values:
            wanted = values[key]
            if "enum" not in schema or wanted in schema["enum"]:
                return wanted
    if "anyOf" in schema or "oneOf" in schema:
        options = [o for o in schema.get("anyOf", schema.get("oneOf")) if _deref(o).get("type") != "null"]
        return example(options[0], values, path)
    if "allOf" in schema:
        return example(schema["allOf"][0], values, path)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v), schema["enum"][0])
    kind = schema.get("type")
    if kind == "object":
        props, title = schema.get("properties", {}), schema.get("title", "")
        out = {}
        for k, prop in props.items():
            child = f"{path}.{k}".lstrip(".")
            if f"{title}.{k}" in values:
                out[k] = values[f"{title}.{k}"]
            elif k in schema.get("required", ()) or k in values or child in values:
                out[k] = example(prop, values, child)
        return out
    if kind == "array":
        return [example(schema["items"], values, path) for _ in range(max(1, schema.get("minItems", 0)))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return TODAY.replace(day=1).isoformat()
    if schema.get("format") == "date-time":
        return TODAY.isoformat() + "T00:00:00"
    return "Kiểm tra truy cập"[: schema.get("maxLength", 100)].ljust(schema.get("minLength", 0), "x")


# Values a person would send where the schema allows more than the rules, by field name or by
# `Schema.field`; `values` given to `body_for` take precedence.
API_DEFAULTS = {
    "code": "D20.5.6",
    "condition": "severe:adult",
    "DecisionIn.kind": DecisionKind.MOVE,  # with A's commune as the destination
    "RepresentationIn.kind": "authorised",
    "BeneficiaryIn.categories": [{"code": "D20.5.6", "condition": "severe:adult"}],
    "BeneficiaryIn.decision_date": "2025-01-10",
    "BeneficiaryIn.decision_number": "9/QĐ-B",
    "event_date": "2025-06-10",
    "DayIn.opens": "07:00",  # a pay day's hours (cashout)
    "DayIn.closes": "11:00",
}


def body_for(operation: dict, values: dict):
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:  # none, or a multipart upload: the walk sends no file
        return None
    return example(content["application/json"]["schema"], API_DEFAULTS | values)


def a_people(world: World) -> list[dict]:
    """Bodies that name A's people: someone with the CCCD of A's representative (under another
    name, and under the registered name, with a birth date and phone of one's own), and someone
    named and born like A's beneficiary."""
    rep = world.a.link.representative
    as_rep = {
        "full_name": "Tên Khác Hẳn",
        "birth_date": date(REP_BIRTH.year, 6, 6).isoformat(),
        "gender": rep.gender,
        "cccd": rep.cccd,
        "phone": "0988000111",
        "kind": "authorised",
    }
    as_ben = {
        "full_name": BEN_NAME,
        "birth_date": BEN_BIRTH.isoformat(),
        "gender": "female",
        "cccd": cccd_for(BEN_BIRTH, "female", "731099"),
        "phone": "0988000222",
    }
    rep_fields = {f"representatives.{k}": v for k, v in as_rep.items()}
    # the name as registered, with a birth date and phone of one's own: linked, never overwriting
    as_registered = as_rep | {"full_name": rep.full_name}
    return [as_rep | rep_fields, as_registered | rep_fields, as_ben | rep_fields]


# --- the web's bodies ---------------------------------------------------------------------------------


# What a person types into fields a form leaves empty, by field name.
FORM_DEFAULTS = {
    "number": "9/QĐ-B",
    "decision_number": "9/QĐ-B",
    "decision_date": "2025-01-10",
    "event_date": "2025-06-10",
    "cat-0-entitlement": "D20.5.6|severe:adult|",
}
TYPED = {"date": "2025-01-10", "month": "2025-01", "number": "1", "tel": "0912345678", "email": "a@example.org"}


@dataclass
class Form:
    action: str
    values: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)  # select → its option values
    required: set[str] = field(default_factory=set)

    def filled(self, overrides: dict) -> dict[str, str]:
        """What a browser sends after a person typed `overrides` in (a choice only if offered)."""
        data = dict(self.values)
        for name, value in overrides.items():
            if name not in self.options or str(value) in self.options[name]:
                data[name] = str(value)
        for name, value in data.items():
            if value:
                continue
            if name in FORM_DEFAULTS and (name not in self.options or FORM_DEFAULTS[name] in self.options[name]):
                data[name] = FORM_DEFAULTS[name]
            elif name in self.required:
                offered = [o for o in self.options.get(name, []) if o]
                data[name] = offered[0] if offered else TYPED.get(self.types.get(name, ""), "Kiểm tra truy cập")
        return data


class _Forms(HTMLParser):
    """The POST forms of a page, with the values a browser would send untouched."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._selected: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = Form(a.get("action", ""))
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        if tag == "option" and self._select is not None:
            form.options[self._select].append(a.get("value", ""))
            if "selected" in a:
                self._selected = a.get("value", "")
        name = a.get("name")
        if not name:
            return
        if "required" in a:
            form.required.add(name)
        if tag == "input":
            kind = a.get("type", "text")
            form.types[name] = kind
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.values[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                form.values[name] = a.get("value", "")
        elif tag == "select":
            self._select, self._selected = name, None
            form.options[name] = []
        elif tag == "textarea":
            self._textarea = name
            form.values[name] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form.values[self._textarea] += data

    def handle_endtag(self, tag):
        form = self._form
        if form is None:
            return
        if tag == "select" and self._select:
            offered = form.options[self._select]
            # a browser sends the selected option, else the first one
            form.values[self._select] = self._selected if self._selected is not None else (offered or [""])[0]
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def form_of(page: str, url: str) -> Form:
    """The page's own form (the largest posting to the page itself)."""
    parser = _Forms()
    parser.feed(page)
    own = [f for f in parser.forms if f.action in ("", url)]
    return max(own, key=lambda f: len(f.values)) if own else Form(url)


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("walk.xlsx", import_xlsx([]))


# --- the walk -------------------------------------------------------------------------------------


@dataclass
class Walk:
    target: Target
    persona: str
    world: World
    client: Client
    user: object
    findings: list[str] = field(default_factory=list)

    def request(self, method: str, url: str, data=None, query=None, *, kind: str):
        if kind == "api":
            payload = json.dumps(data) if data is not None else None
            if method == "GET":
                return self.client.get(url, query or {})
            return self.client.generic(method, url, payload or "", content_type="application/json")
        if method == "GET":
            return self.client.get(url, query or {})
        return self.client.post(url, data or {})

    def check(self, label: str, method: str, url: str, *, allowed, data=None, query=None, in_b=False, sent=""):
        before = snapshot()
        response = self.request(method, url, data, query, kind=self.target.kind)
        after = snapshot()
        where = f"{method} {url}{'?' + '&'.join(f'{k}={v}' for k, v in query.items()) if query else ''}"
        status = response.status_code
        if not allowed(response):
            detail = text_of(response)[:300] if status >= 400 else response.get("Location", "")
            self.findings.append(f"{label}: {where} answered {status} {detail!r}")
        home = [self.world.b.commune.path] if in_b else []
        wrote = forbidden_changes(before, after, self.user, home=home, protected=[self.world.a.commune.path])
        if self.target.namespace in PUBLIC_NAMESPACES:
            allowed_write = PUBLIC_WRITES.get(self.target.name, lambda label, old, new: False)
            wrote = [c for c in wrote if not allowed_write(c[0], c[2], c[3])]
        if wrote:
            self.findings.append(f"{label}: {where} wrote {_describe(wrote)}")
        if status < 500:
            sent = " ".join([sent, *map(str, (query or {}).values())])
            public = self.target.namespace in PUBLIC_NAMESPACES
            shown = leaked(self.world, text_of(response), sent=sent, names_allowed=in_b, public=public)
            if shown and self.persona != "viewer_a":
                self.findings.append(f"{label}: {where} ({status}) shows {', '.join(shown)}")
        return response


def _describe(changed) -> str:
    parts = []
    for label, pk, old, new in changed[:6]:
        verb = "created" if old is None else "deleted" if new is None else "changed"
        diff = ""
        if old and new:
            diff = " " + ", ".join(f"{k}: {old[k]!r} → {new[k]!r}" for k in new if old.get(k) != new[k])
        parts.append(f"{label} {pk} {verb}{diff}")
    return "; ".join(parts) + (f" (+{len(changed) - 6} more)" if len(changed) > 6 else "")


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def _status_in(*codes):
    return lambda response: response.status_code in codes


def _below_500(response) -> bool:
    return response.status_code < 500


def walk_web(w: Walk) -> None:
    t, world = w.target, w.world
    own_account = t.namespace in OWN_ACCOUNT
    hostile = {k: str(v) for k, v in references(world).items()} | {"kind": DecisionKind.MOVE}
    if w.persona == "anonymous":
        url = url_of(t, world.a)
        for method in t.methods:
            w.check(
                "anonymous", method, url, data=hostile, allowed=lambda r: _is_login_redirect(r) or r.status_code == 405
            )
        return
    if w.persona == "viewer_a":
        url = url_of(t, world.a)
        w.check("read-only GET", "GET", url, allowed=_below_500)
        if own_account:
            w.check("read-only POST on an own-account page", "POST", url, data=hostile, allowed=_below_500)
        else:
            w.check("read-only POST", "POST", url, data={**hostile, "file": upload()}, allowed=_status_in(403, 405))
        return
    if w.persona == "officer_b":
        url = url_of(t, world.a)
        if t.params:
            for method in t.methods:
                w.check("outsider on A's object", method, url, data=hostile, allowed=_status_in(404, 405))
            return
        for query in [{}, hostile, *searches(world)]:
            w.check("outsider's list", "GET", url, query=query, allowed=_below_500)
        w.check("outsider posting A's ids", "POST", url, data={**hostile, "file": upload()}, allowed=_below_500)
        return
    # officer_b on B's own objects, with A's ids and A's people in the bodies
    url = url_of(t, world.b)
    page = w.client.get(url)
    is_html = page.status_code == 200 and page.get("Content-Type", "").startswith("text/html")
    body = b"".join(page.streaming_content) if page.streaming else page.content  # print pages stream
    form = form_of(body.decode("utf-8", "replace"), url) if is_html else Form(url)
    for overrides in [hostile, *a_people(world)]:
        data = form.filled({k: v for k, v in overrides.items() if "." not in k})
        sent = " ".join(map(str, data.values()))
        w.check(
            "officer of B in B with A's ids and people",
            "POST",
            url,
            data=data,
            in_b=True,
            sent=sent,
            allowed=_below_500,
        )


def _public_probes(world: World) -> list[dict[str, str]]:
    """What someone who knows A's people's numbers but not the proof types into a public form:
    the CCCD of A's beneficiary and of A's representative, wrong phone digits, a wrong code."""
    wrong = {"last4": "0000", "code": "000000", "phone": "0988000333"}
    return [{"cccd": world.a.beneficiary.cccd, **wrong}, {"cccd": world.a.link.representative.cccd, **wrong}]


def walk_public(w: Walk) -> None:
    t, world = w.target, w.world
    url = url_of(t, world.a)
    hostile = {k: str(v) for k, v in references(world).items()}
    w.check("public GET", "GET", url, allowed=_status_in(200))
    w.check("public POST without proof", "POST", url, data=hostile, allowed=_below_500)
    page = w.client.get(url)
    parser = _Forms()
    parser.feed(page.content.decode("utf-8", "replace"))
    for form in [f for f in parser.forms if f.action in ("", url)]:
        for probe in _public_probes(world):
            # a field named like a probe, also behind a form prefix ("p-cccd")
            typed = {n: v for n in form.values for k, v in probe.items() if n == k or n.endswith("-" + k)}
            data = form.filled(typed)
            w.check(
                "public form without proof",
                "POST",
                url,
                data=data,
                sent=" ".join(map(str, data.values())),
                allowed=_below_500,
            )


def walk_api(w: Walk) -> None:
    t, world = w.target, w.world
    operations = SCHEMA["paths"][t.name]
    for method, operation in operations.items():
        method = method.upper()
        query_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        unknown = [n for n in query_names if n not in REFERENCES and n not in PLAIN_QUERY_PARAMS]
        if unknown:
            pytest.fail(
                f"{method} {t.name}: query parameter(s) {unknown} unknown to the access walk. Add each to "
                "REFERENCES (it names an object) or PLAIN_QUERY_PARAMS in tests/access/test_every_url.py."
            )
        refs = references(world)
        if w.persona == "anonymous":
            body = body_for(operation, refs)
            w.check("anonymous", method, url_of(t, world.a), data=body, allowed=_status_in(401))
        elif w.persona == "viewer_a":
            body = body_for(operation, refs)
            allowed = _below_500 if method == "GET" else _status_in(403)
            response = w.check("read-only", method, url_of(t, world.a), data=body, allowed=allowed)
            _schema_refused(w, method, response)
        elif w.persona == "officer_b":
            url = url_of(t, world.a)
            if t.params or method != "GET":
                response = w.check(
                    "outsider on A's object", method, url, data=body_for(operation, refs), allowed=_status_in(404)
                )
                _schema_refused(w, method, response)
                continue
            queries = [{}, {k: v for k, v in refs.items() if k in query_names}]
            queries += [q for q in searches(world) if set(q) <= set(query_names)]
            for query in queries:
                w.check("outsider's list", "GET", url, query=query, allowed=_status_in(200))
        elif method != "GET":
            url = url_of(t, world.b)
            mine = {"commune_id": world.b.commune.pk, "village_id": None}
            for values in [refs, *(person | (mine if not t.params else {}) for person in a_people(world))]:
                body = body_for(operation, values)
                sent = json.dumps(body, ensure_ascii=False)
                w.check(
                    "officer of B in B with A's ids and people",
                    method,
                    url,
                    data=body,
                    in_b=True,
                    sent=sent,
                    allowed=_below_500,
                )


def _schema_refused(w: Walk, method: str, response) -> None:
    if response.status_code == 422:
        w.findings.append(
            f"{method} {w.target.name}: the body generated from the OpenAPI schema was refused before the access "
            f"check ({text_of(response)[:300]}); give the field a value in API_DEFAULTS (or REFERENCES if it names "
            "an object) so that the walk reaches the view"
        )


@pytest.mark.parametrize("target, persona", list(_cases()))
def test_every_url(target, persona, world):
    if target.name.startswith("<unnamed"):
        pytest.fail(f"{target.name}: give every URL pattern a name so that it can be reversed and walked")
    client, user = client_for(persona, world, target.kind)
    walk = Walk(target, persona, world, client, user)
    if target.namespace in PUBLIC_NAMESPACES:
        walk_public(walk)
    else:
        (walk_web if target.kind == "web" else walk_api)(walk)
    assert not walk.findings, "\n".join(walk.findings)


# --- the walk walks what it should ------------------------------------------------------------------


def _all_url_names(resolver=None, namespace: str = "") -> set[str]:
    names = set()
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            names |= _all_url_names(p, ":".join(x for x in (namespace, p.namespace) if x))
        elif p.name:
            names.add(f"{namespace}:{p.name}" if namespace else p.name)
    return names


def test_the_walk_covers_the_web_and_the_api():
    web = {t.name for t in TARGETS if t.kind == "web"}
    assert {"registry:detail", "registry:representative_end", "imports:confirm", "account:revoke_token"} <= web
    assert not {n for n in web if n.split(":")[0] in SKIPPED_NAMESPACES or n in PUBLIC}
    api_paths = {t.name for t in TARGETS if t.kind == "api"}
    assert "/api/v1/beneficiaries/{beneficiary_id}/representatives/{representation_id}" in api_paths
    # The exceptions name URLs and namespaces that exist: a renamed page does not stay exempt.
    names = _all_url_names()
    assert set(PUBLIC) <= names
    namespaces = {n.split(":")[0] for n in names}
    assert namespaces >= set(SKIPPED_NAMESPACES) | OWN_ACCOUNT
    for spec in PATH_PARAMS.values():
        if isinstance(spec, dict):
            assert set(spec) <= names | namespaces | api_paths, set(spec) - names - namespaces - api_paths


def test_every_path_parameter_has_an_object():
    missing = [f"{t.id}: {param}" for t in TARGETS for param in t.params if path_spec(t, param) is None]
    assert not missing, "add these to PATH_PARAMS in tests/access/test_every_url.py: " + ", ".join(missing)


def test_the_owner_sees_the_markers_the_outsider_must_not(world):
    """The leak check is not vacuous: officer_a finds A's objects on the lists the walk reads."""
    client = Client()
    client.force_login(world.a.officer, backend="django.contrib.auth.backends.ModelBackend")
    expected = {
        reverse("registry:list"): BEN_NAME,
        reverse("registry:export"): BEN_NAME,
        reverse("imports:index"): FILE_NAME,
        reverse("audit:list"): BEN_NAME,
        reverse("orgs:list"): ORG_NAME,
        reverse("coverage:lists") + "?kind=btxh": BEN_NAME,  # registering: an account and an opening request
        reverse("account:tokens"): TOKEN_NAME,
        reverse("registry:detail", args=[world.a.beneficiary.pk]): REP_NAME,
        reverse("complaints:register"): REP_NAME,  # the complaint lodged by A's representative
        reverse("complaints:export"): REP_NAME,
        reverse("applications:list"): APPLICANT_A,
    }
    for url, marker in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert marker in text_of(response), url
    _token, raw = create_api_token(actor=None, user=world.a.officer)
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert BEN_NAME in text_of(api_client.get("/api/v1/beneficiaries", {"q": BEN_NAME}))
    assert REP_PHONE[1:] in text_of(api_client.get(f"/api/v1/beneficiaries/{world.a.beneficiary.pk}"))
