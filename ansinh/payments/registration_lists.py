"""The four registration lists of the Hoằng Phong plan (section III.1), generated from the
payment data, never typed:

1. `ncc`: người có công registering to receive their allowance through an account;
2. `ncc-representatives`: the guardians / authorised persons registering for them;
3. `btxh`: social-assistance beneficiaries (BTXH, and the social pension HTXH) registering;
4. `btxh-representatives`: their guardians / authorised persons.

Who is "registering for account payment" (a beneficiary receiving an allowance now): the
payment method in effect this month, or one planned from a later month, is a transfer to an
account; or the beneficiary holds a receiving account pending verification or active; or (once
the account-opening app holds requests) a request to open an account is in flight or done. A
representative is on a guardians' list when they act for a registering beneficiary of that
programme and receive the money (the current payee), hold the receiving account, or asked for
the account to be opened in their name.

Everything is set-based: the registering condition is a handful of EXISTS clauses on the
beneficiary table; rows are read through one cursor, a chunk at a time, and each chunk's
categories, accounts and payees cost one query each, so a list costs the same few queries per
2,000 rows in bounded memory. Masking: CCCD in full only with `registry.view_cccd`, phones only
with `registry.view_contact`, account numbers only with `payments.view_account` (where the
user holds them); HIV-related categories are never written on a list taken away (file or
paper), as in `registry.exports`, and shown on screen and in the API only to holders of
`registry.view_sensitive`."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import IO

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.services import record
from ansinh.core.exporter import Sheet, TitleBlock, unit_name, write_workbook
from ansinh.core.masking import mask_number
from ansinh.policy.entitlement import month_start
from ansinh.policy.models import Kind
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Status
from ansinh.registry.privacy import contact_visible, mask_phone
from ansinh.registry.queries import beneficiaries_for, cccd_visible, count_upto, sensitive_visible

from . import crypto
from .models import AccountStatus, Method, PaymentMethod, ReceivingAccount

CHUNK = 2000

# Statuses of an account-opening request (ansinh.openings) that count as registering: asked for,
# on its way to the provider, or opened (rejected and cancelled requests do not).
OPENING_STATUSES = ("requested", "confirmed", "exported", "opened")
LIVE_ACCOUNT = (AccountStatus.PENDING, AccountStatus.ACTIVE)


@dataclass(frozen=True)
class ListKind:
    slug: str
    programmes: tuple[str, ...]
    representatives: bool
    title: str  # the title of the plan's list, as printed (Vietnamese, like every list on paper)
    label: object  # what the screen calls it (translated)


KINDS: dict[str, ListKind] = {
    k.slug: k
    for k in (
        ListKind(
            "ncc",
            ("NCC",),
            False,
            "Danh sách đối tượng đăng ký nhận trợ cấp ưu đãi người có công với cách mạng qua tài khoản thanh toán",
            gettext_lazy("People with meritorious services registering for account payment"),
        ),
        ListKind(
            "ncc-representatives",
            ("NCC",),
            True,
            "Danh sách người được ủy quyền/người giám hộ đăng ký nhận trợ cấp ưu đãi người có công với cách mạng "
            "qua tài khoản thanh toán",
            gettext_lazy("Their guardians and authorised persons (people with meritorious services)"),
        ),
        ListKind(
            "btxh",
            ("BTXH", "HTXH"),
            False,
            "Danh sách đối tượng đăng ký nhận trợ cấp chính sách trợ giúp xã hội qua tài khoản thanh toán",
            gettext_lazy("Social-assistance beneficiaries registering for account payment"),
        ),
        ListKind(
            "btxh-representatives",
            ("BTXH", "HTXH"),
            True,
            "Danh sách người được ủy quyền/người giám hộ đăng ký nhận trợ cấp chính sách trợ giúp xã hội qua tài "
            "khoản thanh toán",
            gettext_lazy("Their guardians and authorised persons (social assistance)"),
        ),
    )
}

BENEFICIARY_HEADERS = [
    "STT",
    "Họ và tên",
    "Năm sinh",
    "Số CCCD",
    "Địa chỉ (thôn/khóm/ấp)",
    "Đối tượng",
    "Số điện thoại",
    "Tên ngân hàng",
    "Số tài khoản",
    "Ghi chú",
]
BENEFICIARY_WIDTHS = [6, 26, 8, 15, 30, 30, 14, 22, 20, 34]
REPRESENTATIVE_HEADERS = [
    "STT",
    "Họ và tên người được ủy quyền/người giám hộ",
    "Năm sinh",
    "Số CCCD",
    "Số điện thoại",
    "Quan hệ với đối tượng",
    "Nhận thay cho đối tượng",
    "Năm sinh đối tượng",
    "Địa chỉ (thôn/khóm/ấp)",
    "Đối tượng",
    "Tên ngân hàng",
    "Số tài khoản",
    "Ghi chú",
]
REPRESENTATIVE_WIDTHS = [6, 26, 8, 15, 14, 18, 26, 8, 28, 28, 22, 20, 30]
SUMMARY_TITLE = "Tổng hợp theo thôn"
SUMMARY_HEADERS = ["STT", "Xã/phường", "Thôn/khóm/ấp", "Số người"]
SUMMARY_WIDTHS = [6, 32, 32, 12]
SIGNERS = ("Người lập biểu", "CHỦ TỊCH UBND")
SIGN_NOTES = ("(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên, đóng dấu)")


# --- who is registering ---------------------------------------------------------------------------


def this_month() -> date:
    return month_start(timezone.localdate())


def opening_model():
    """The account-opening request model, when the openings app defines it (None otherwise)."""
    try:
        return apps.get_model("openings", "OpeningRequest")
    except LookupError:
        return None


def method_in_effect(method: str, month: date) -> Exists:
    """The payment method in effect in `month` is `method` (for the beneficiary of the outer
    query): a row of that method from a month on or before it, with no later row up to it."""
    later = PaymentMethod.objects.filter(
        beneficiary=OuterRef("beneficiary"),
        cancelled_at__isnull=True,
        from_month__gt=OuterRef("from_month"),
        from_month__lte=month,
    )
    rows = PaymentMethod.objects.filter(
        beneficiary=OuterRef("pk"), method=method, from_month__lte=month, cancelled_at__isnull=True
    )
    return Exists(rows.filter(~Exists(later)))


def has_account(statuses: Iterable[str]) -> Exists:
    return Exists(ReceivingAccount.objects.filter(beneficiary=OuterRef("pk"), status__in=list(statuses)))


def in_programmes(codes: Iterable[str]) -> Exists:
    """A current monthly category of one of these programmes."""
    return Exists(
        BeneficiaryCategory.objects.filter(
            beneficiary=OuterRef("pk"),
            to_month__isnull=True,
            category__programme__code__in=list(codes),
            category__kind=Kind.MONTHLY,
        )
    )


def registering(month: date | None = None) -> Q:
    """The condition on Beneficiary of registering for account payment (see the module)."""
    month = month or this_month()
    planned = Exists(
        PaymentMethod.objects.filter(
            beneficiary=OuterRef("pk"), method=Method.ACCOUNT, from_month__gt=month, cancelled_at__isnull=True
        )
    )
    q = Q(method_in_effect(Method.ACCOUNT, month)) | Q(planned) | Q(has_account(LIVE_ACCOUNT))
    model = opening_model()
    if model is not None:
        q |= Q(Exists(model.objects.filter(beneficiary=OuterRef("pk"), status__in=OPENING_STATUSES)))
    return Q(status=Status.ACTIVE) & q


def registering_beneficiaries(base: QuerySet[Beneficiary], kind: ListKind, month: date | None = None):
    return base.filter(registering(month)).filter(in_programmes(kind.programmes))


def acting_representations(beneficiaries: QuerySet[Beneficiary]) -> QuerySet[Representation]:
    """Current representations of these beneficiaries whose representative receives the money
    (the current payee), holds a pending or active receiving account for them, or asked for an
    account to be opened in their name."""
    holds = Exists(ReceivingAccount.objects.filter(holder_representation=OuterRef("pk"), status__in=list(LIVE_ACCOUNT)))
    q = Q(is_payee=True) | Q(holds)
    model = opening_model()
    if model is not None:
        q |= Q(Exists(model.objects.filter(representation=OuterRef("pk"), status__in=OPENING_STATUSES)))
    return Representation.objects.filter(beneficiary__in=beneficiaries.values("pk"), ended_at__isnull=True).filter(q)


# --- scoping ---------------------------------------------------------------------------------------


def area_for(user, area_id: int | None) -> Area | None:
    if not area_id:
        return None
    return access.areas_for(user).filter(pk=area_id).select_related("parent").first()


def scoped(user, kind: ListKind, area_id: int | None, *, cap: str = Cap.REGISTRY_VIEW, month: date | None = None):
    """The list's records in the user's areas where `cap` holds (Beneficiary rows, or
    Representation rows for a guardians' list), within the area asked for (none when it is not
    one of the user's areas)."""
    base = beneficiaries_for(user, cap)
    if area_id:
        area = area_for(user, area_id)
        base = base.filter(area_path__startswith=area.path) if area is not None else base.none()
    people = registering_beneficiaries(base, kind, month)
    return acting_representations(people) if kind.representatives else people


def ordered(qs: QuerySet) -> QuerySet:
    """By commune, village (people without a village last), then Vietnamese name order."""
    prefix = "beneficiary__" if qs.model is Representation else ""
    order = [
        F(f"{prefix}commune__name_key").asc(),
        F(f"{prefix}commune_id").asc(),
        F(f"{prefix}village__name_key").asc(nulls_last=True),
        F(f"{prefix}village_id").asc(nulls_last=True),
        F(f"{prefix}sort_key").asc(),
        F(f"{prefix}id").asc(),
    ]
    if prefix:
        order += [F("representative__name_key").asc(), F("id").asc()]
        return qs.select_related("beneficiary__commune", "beneficiary__village", "representative").order_by(*order)
    return qs.select_related("commune", "village").order_by(*order)


# --- rows ------------------------------------------------------------------------------------------


def _where(user, cap: str) -> Callable[[str], bool]:
    if access.everywhere(user, cap):
        return lambda path: True
    paths = access.paths_with(user, cap)
    return lambda path: any(path.startswith(p) for p in paths)


@dataclass
class Masks:
    """What the user may read in full, per area path (one look-up of their roles per list)."""

    cccd: Callable[[str], bool]
    phone: Callable[[str], bool]
    account: Callable[[str], bool]
    sensitive: Callable[[str], bool]
    person: Callable[[str], bool]  # a representative kept in an area the user may see

    @classmethod
    def of(cls, user, *, taken_away: bool) -> Masks:
        return cls(
            cccd=cccd_visible(user),
            phone=contact_visible(user),
            account=_where(user, Cap.PAYMENTS_VIEW_ACCOUNT),
            # a list taken away (a file, paper) never names an HIV-related category
            sensitive=(lambda path: False) if taken_away else sensitive_visible(user),
            person=_where(user, Cap.REGISTRY_VIEW),
        )


@dataclass
class Row:
    """One line of a list, masked for its reader. For a guardians' list the person is the
    representative and `beneficiary_*` name the one they act for."""

    beneficiary_id: int
    full_name: str
    birth_year: int | None
    cccd: str
    phone: str
    address: str
    commune: str
    village: str
    categories: list[str]
    institution: str = ""
    account_number: str = ""
    account_status: str = ""  # "active", "pending" or ""
    account_holder: str = ""  # the representative holding the account, "" for the beneficiary
    method: str = ""  # the payment method in effect this month ("" when none chosen yet)
    account_from: date | None = None  # the month a planned change to account payment takes effect
    opening: str = ""  # the status of an account-opening request
    payee: str = ""  # the representative receiving the money, "" for the beneficiary
    representation_id: int | None = None
    kind: str = ""  # guardian / authorised
    relationship: str = ""
    beneficiary_name: str = ""
    beneficiary_birth_year: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        return "; ".join(self.notes)


def _chunks(rows: Iterable, size: int = CHUNK) -> Iterator[list]:
    it = iter(rows) if not isinstance(rows, QuerySet) else rows.iterator(chunk_size=size)
    while chunk := list(islice(it, size)):
        yield chunk


def _address(b: Beneficiary, with_commune: bool) -> str:
    parts = [b.address, b.village.full_name if b.village else ""]
    if with_commune:
        parts.append(b.commune.full_name)
    return ", ".join(p for p in parts if p)


def _categories(ids: list[int], kind: ListKind, show: Callable[[str], bool], paths: dict[int, str]):
    out: dict[int, list[str]] = defaultdict(list)
    rows = BeneficiaryCategory.objects.filter(
        beneficiary_id__in=ids, to_month__isnull=True, category__programme__code__in=kind.programmes
    ).select_related("category")
    for bc in rows.order_by("category__code", "id"):
        if not bc.category.sensitive or show(paths[bc.beneficiary_id]):
            out[bc.beneficiary_id].append(bc.category.name)
    return out


def _accounts(ids: list[int]) -> dict[int, list[ReceivingAccount]]:
    """Each beneficiary's live accounts, the active ones first, then the newest."""
    out: dict[int, list[ReceivingAccount]] = defaultdict(list)
    rows = ReceivingAccount.objects.filter(beneficiary_id__in=ids, status__in=list(LIVE_ACCOUNT)).select_related(
        "institution", "holder_representation__representative"
    )
    for a in sorted(rows, key=lambda a: (a.status != AccountStatus.ACTIVE, -a.created_at.timestamp(), -a.pk)):
        out[a.beneficiary_id].append(a)
    return out


def _methods(ids: list[int], month: date) -> tuple[dict[int, str], dict[int, date]]:
    """The method in effect in `month` and the first planned month of account payment after it."""
    now: dict[int, tuple[date, int, str]] = {}
    planned: dict[int, date] = {}
    rows = PaymentMethod.objects.filter(beneficiary_id__in=ids, cancelled_at__isnull=True).values_list(
        "beneficiary_id", "from_month", "id", "method"
    )
    for bid, from_month, pk, method in rows:
        if from_month <= month:
            if bid not in now or (from_month, pk) > now[bid][:2]:
                now[bid] = (from_month, pk, method)
        elif method == Method.ACCOUNT and (bid not in planned or from_month < planned[bid]):
            planned[bid] = from_month
    return {bid: m for bid, (_f, _p, m) in now.items()}, planned


def _openings(ids: list[int]) -> dict[tuple[int, int | None], str]:
    """(beneficiary, representation or None) → the status of the latest live opening request."""
    model = opening_model()
    if model is None:
        return {}
    rows = (
        model.objects.filter(beneficiary_id__in=ids, status__in=OPENING_STATUSES)
        .order_by("id")
        .values_list("beneficiary_id", "representation_id", "status")
    )
    return {(bid, rid): status for bid, rid, status in rows}


OPENING_LABELS = {
    "requested": gettext_lazy("account opening requested"),
    "confirmed": gettext_lazy("account opening confirmed by the commune"),
    "exported": gettext_lazy("account opening sent to the provider"),
    "opened": gettext_lazy("account opened by the provider"),
}


def _account_fields(row: Row, account: ReceivingAccount | None, show_number: bool) -> None:
    if account is None:
        return
    row.institution = account.institution.name
    row.account_number = crypto.decrypt(account.number_encrypted) if show_number else account.masked_number
    row.account_status = account.status
    rep = account.holder_representation
    row.account_holder = rep.representative.full_name if rep is not None else ""


def _notes(row: Row, *, own_list: bool) -> None:
    """The "Ghi chú" column: what the commune has to do or know about the line."""
    if row.account_status == AccountStatus.PENDING:
        row.notes.append(_("account waiting for verification"))
    elif not row.account_status:
        row.notes.append(_("no account yet"))
    if row.opening:
        row.notes.append(str(OPENING_LABELS.get(row.opening, row.opening)))
    if row.method != Method.ACCOUNT and row.account_from is not None:
        row.notes.append(_("account payment from %(month)s") % {"month": row.account_from.strftime("%m/%Y")})
    elif row.method and row.method != Method.ACCOUNT:
        row.notes.append(_("paid in cash for now"))
    if own_list and row.account_holder:
        row.notes.append(_("account held by %(name)s") % {"name": row.account_holder})
    elif own_list and row.payee:
        row.notes.append(_("received by %(name)s") % {"name": row.payee})


def beneficiary_rows(
    user, records: Iterable[Beneficiary], kind: ListKind, *, taken_away: bool, with_commune: bool = False
) -> Iterator[Row]:
    masks = Masks.of(user, taken_away=taken_away)
    month = this_month()
    for chunk in _chunks(records):
        ids = [b.pk for b in chunk]
        paths = {b.pk: b.area_path for b in chunk}
        cats = _categories(ids, kind, masks.sensitive, paths)
        accounts = _accounts(ids)
        methods, planned = _methods(ids, month)
        openings = {bid: status for (bid, _rid), status in _openings(ids).items()}
        payees = dict(
            Representation.objects.filter(beneficiary_id__in=ids, is_payee=True, ended_at__isnull=True).values_list(
                "beneficiary_id", "representative__full_name"
            )
        )
        for b in chunk:
            path = b.area_path
            row = Row(
                beneficiary_id=b.pk,
                full_name=b.full_name,
                birth_year=b.birth_date.year,
                cccd=b.cccd if masks.cccd(path) else mask_number(b.cccd),
                phone=b.phone_display if masks.phone(path) else mask_phone(b.phone),
                address=_address(b, with_commune),
                commune=b.commune.full_name,
                village=b.village.full_name if b.village else "",
                categories=cats.get(b.pk, []),
                method=methods.get(b.pk, ""),
                account_from=planned.get(b.pk),
                opening=openings.get(b.pk, ""),
                payee=payees.get(b.pk, ""),
            )
            live = accounts.get(b.pk, [])
            _account_fields(row, live[0] if live else None, masks.account(path))
            _notes(row, own_list=True)
            yield row


def representative_rows(
    user, records: Iterable[Representation], kind: ListKind, *, taken_away: bool, with_commune: bool = False
) -> Iterator[Row]:
    masks = Masks.of(user, taken_away=taken_away)
    month = this_month()
    for chunk in _chunks(records):
        ids = list({link.beneficiary_id for link in chunk})
        paths = {link.beneficiary_id: link.beneficiary.area_path for link in chunk}
        cats = _categories(ids, kind, masks.sensitive, paths)
        accounts = _accounts(ids)
        methods, planned = _methods(ids, month)
        openings = _openings(ids)
        for link in chunk:
            b, rep = link.beneficiary, link.representative
            seen = masks.person(rep.area_path)  # a representative kept in another area: name only
            row = Row(
                beneficiary_id=b.pk,
                representation_id=link.pk,
                full_name=rep.full_name,
                birth_year=rep.birth_date.year if rep.birth_date and seen else None,
                cccd=rep.cccd if seen and masks.cccd(rep.area_path) else mask_number(rep.cccd),
                phone=(rep.phone and (_display(rep.phone) if masks.phone(rep.area_path) else mask_phone(rep.phone)))
                if seen
                else "",
                address=_address(b, with_commune),
                commune=b.commune.full_name,
                village=b.village.full_name if b.village else "",
                categories=cats.get(b.pk, []),
                method=methods.get(b.pk, ""),
                account_from=planned.get(b.pk),
                opening=openings.get((b.pk, link.pk), ""),
                kind=link.kind,
                relationship=link.relationship,
                beneficiary_name=b.full_name,
                beneficiary_birth_year=b.birth_date.year,
            )
            held = [a for a in accounts.get(b.pk, []) if a.holder_representation_id == link.pk]
            _account_fields(row, held[0] if held else None, masks.account(b.area_path))
            if link.is_payee:
                row.notes.append(_("receives the money"))
            _notes(row, own_list=False)
            yield row


def _display(phone: str) -> str:
    from ansinh.core.text import phone_display

    return phone_display(phone)


def rows_for(user, kind: ListKind, records, *, taken_away: bool, with_commune: bool = False) -> Iterator[Row]:
    make = representative_rows if kind.representatives else beneficiary_rows
    return make(user, records, kind, taken_away=taken_away, with_commune=with_commune)


KIND_TEXT = {"guardian": "Giám hộ", "authorised": "Ủy quyền"}


def cells(kind: ListKind, number: int, row: Row) -> list:
    """A row as the printed and exported list's cells (Vietnamese, like the paper forms)."""
    if not kind.representatives:
        return [
            number,
            row.full_name,
            row.birth_year,
            row.cccd,
            row.address,
            "; ".join(row.categories),
            row.phone,
            row.institution,
            row.account_number,
            row.note,
        ]
    relation = KIND_TEXT.get(row.kind, row.kind) + (f" ({row.relationship})" if row.relationship else "")
    return [
        number,
        row.full_name,
        row.birth_year or "",
        row.cccd,
        row.phone,
        relation,
        row.beneficiary_name,
        row.beneficiary_birth_year,
        row.address,
        "; ".join(row.categories),
        row.institution,
        row.account_number,
        row.note,
    ]


def headers_of(kind: ListKind) -> list[str]:
    return REPRESENTATIVE_HEADERS if kind.representatives else BENEFICIARY_HEADERS


# --- files and paper -------------------------------------------------------------------------------


@dataclass
class Heading:
    block: TitleBlock
    place: str
    area: Area | None
    with_commune: bool


def heading(user, kind: ListKind, area: Area | None) -> Heading:
    if area is None:
        top = access.top_areas(user, Cap.REGISTRY_EXPORT)
        area = top[0] if len(top) == 1 else None
    commune = area.parent if area is not None and area.level == Level.VILLAGE else area
    lines = [area.full_name] if area is not None and area.level == Level.VILLAGE else []
    return Heading(
        block=TitleBlock(unit=unit_name(area), title=kind.title.upper(), lines=lines),
        place=commune.name if commune is not None and commune.level == Level.COMMUNE else "",
        area=area,
        with_commune=area is None or area.level in (Level.PROVINCE, Level.DISTRICT),
    )


def _limited(user, kind: ListKind, area_id: int | None, *, printing: bool):
    """The list in the areas where the user may take it away, and its size; a ValidationError
    above `settings.ANSINH_EXPORT_MAX_ROWS` (as for the beneficiary list)."""
    records = scoped(user, kind, area_id, cap=Cap.REGISTRY_EXPORT)
    limit = settings.ANSINH_EXPORT_MAX_ROWS
    count = count_upto(records, limit)
    if count > limit:
        message = (
            _("The list has more than %(limit)s rows, too many to print. Choose a commune or a village.")
            if printing
            else _("The list has more than %(limit)s rows, too many for one file. Choose a commune or a village.")
        )
        raise ValidationError(message, code="too_many_rows", params={"limit": f"{limit:,}".replace(",", ".")})
    return ordered(records), count


def village_summary(tally: dict[tuple[str, str], int]) -> list[list]:
    rows: list[list] = [[i, c, v or "—", n] for i, ((c, v), n) in enumerate(tally.items(), start=1)]
    rows.append(["", "Tổng cộng", "", sum(tally.values())])
    return rows


def signature_rows(width: int, place: str, day: date) -> list[list]:
    """The signature block under a list in a file: the preparer on the left, the chairperson of
    the People's Committee on the right (as the plan's forms have it)."""
    right = max(width - 3, 3)

    def at(left_value, right_value) -> list:
        row: list = [""] * (right + 1)
        row[1], row[right] = left_value, right_value
        return row

    dated = f"{place}, ngày {day:%d} tháng {day:%m} năm {day:%Y}" if place else f"Ngày {day:%d/%m/%Y}"
    return [[], at("", dated), at(*SIGNERS), at(*SIGN_NOTES)]


@dataclass
class ListFile:
    file: IO[bytes]
    rows: int


def _log(actor, action: str, kind: ListKind, area: Area | None, rows: int, fmt: str) -> None:
    with transaction.atomic():
        record(actor=actor, action=action, area=area, after={"format": fmt, "list": kind.slug, "rows": rows})


def export_list(*, actor, kind: ListKind, area_id: int | None) -> ListFile:
    """The list as an XLSX file (title block with the unit and the date, the plan's columns,
    the signature block, a summary per village), in a temporary file, logged as
    "payments.registration_list.exported"."""
    records, _count = _limited(actor, kind, area_id, printing=False)
    head = heading(actor, kind, area_for(actor, area_id) if area_id else None)
    headers = headers_of(kind)
    tally: dict[tuple[str, str], int] = defaultdict(int)
    written = 0
    today = timezone.localdate()

    def lines():
        nonlocal written
        for row in rows_for(actor, kind, records, taken_away=True, with_commune=head.with_commune):
            written += 1
            tally[(row.commune, row.village)] += 1
            yield cells(kind, written, row)
        yield from signature_rows(len(headers), head.place, today)

    block = head.block.dated(today)
    widths = REPRESENTATIVE_WIDTHS if kind.representatives else BENEFICIARY_WIDTHS

    def sheets():
        yield Sheet(title="Danh sách", headers=headers, rows=lines(), widths=widths, heading=block)
        yield Sheet(
            title=SUMMARY_TITLE,
            headers=SUMMARY_HEADERS,
            rows=village_summary(tally),
            widths=SUMMARY_WIDTHS,
            heading=TitleBlock(block.unit, SUMMARY_TITLE.upper(), [kind.title, *block.lines[-1:]]),
            landscape=False,
        )

    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (handed to the response, which closes it)
    try:
        write_workbook(out, sheets())
        _log(actor, "payments.registration_list.exported", kind, head.area, written, "xlsx")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return ListFile(file=out, rows=written)


@dataclass
class PrintedList:
    heading: Heading
    headers: list[str]
    rows: Iterator[list]
    count: int


def print_list(*, actor, kind: ListKind, area_id: int | None) -> PrintedList:
    """The list on paper under the file's rules, logged as "payments.registration_list.printed"."""
    records, count = _limited(actor, kind, area_id, printing=True)
    head = heading(actor, kind, area_for(actor, area_id) if area_id else None)
    rows = (
        cells(kind, i, row)
        for i, row in enumerate(
            rows_for(actor, kind, records, taken_away=True, with_commune=head.with_commune), start=1
        )
    )
    _log(actor, "payments.registration_list.printed", kind, head.area, count, "print")
    return PrintedList(heading=head, headers=headers_of(kind), rows=rows, count=count)


def row_dict(row: Row, kind: ListKind) -> dict:
    """A row for the API (already masked)."""
    out = {
        "beneficiary_id": row.beneficiary_id,
        "full_name": row.full_name,
        "birth_year": row.birth_year,
        "cccd": row.cccd,
        "phone": row.phone,
        "address": row.address,
        "commune": row.commune,
        "village": row.village,
        "categories": row.categories,
        "institution": row.institution,
        "account_number": row.account_number,
        "account_status": row.account_status,
        "method": row.method,
        "account_from": row.account_from,
        "opening": row.opening,
        "note": row.note,
    }
    if kind.representatives:
        out |= {
            "representation_id": row.representation_id,
            "kind": row.kind,
            "relationship": row.relationship,
            "beneficiary_name": row.beneficiary_name,
            "beneficiary_birth_year": row.beneficiary_birth_year,
        }
    else:
        out |= {"payee": row.payee, "account_holder": row.account_holder}
    return out
