"""Refreshing the data-quality worklists: for an area (a commune on the worklist page, a province
or everything from the command), each kind's problems are computed by one set-based query; new
problems are inserted with one INSERT … SELECT per kind, items whose problem is gone are closed
with one UPDATE per kind, and the rest stays as it is. Nothing is read into Python row by row, so
a province of a million beneficiaries refreshes in seconds (benchmarks/bench_worklist.py).

The rules of every kind (docs/worklists.md) are the querysets in `PROBLEMS`; a problem is a row
(beneficiary, account or none, commune, area path, detail).

The statements are put together from table names and SQL that Django compiled (hence the
`noqa: S608`); every value goes in as a parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    JSONField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, ExtractYear, JSONObject, Substr
from django.utils import timezone

from ansinh.areas.models import Area, Level
from ansinh.audit.models import AuditEvent
from ansinh.audit.services import record
from ansinh.payments.models import AccountStatus, PayeeDesignation, PaymentMethod, ReceivingAccount
from ansinh.payments.names import STRONG_MATCH
from ansinh.registry.models import Beneficiary, Representation, RepresentationKind, Status, StopReason
from ansinh.registry.validation import cccd_rules
from ansinh.verification.models import Outcome, VerificationResult

from .models import Kind, WorklistItem, WorklistRefresh

RECEIVING = (Status.ACTIVE, Status.SUSPENDED)
# identity fields whose correction makes an earlier verification result stale
IDENTITY_FIELDS = ["full_name", "birth_date", "gender", "cccd"]
# beneficiaries younger than this cannot receive the money themselves: a representative must
MINOR_AGE = 16


def max_per_account() -> int:
    """How many beneficiaries one account may receive for before it is listed (setting)."""
    return int(getattr(settings, "ANSINH_WORKLIST_MAX_PER_ACCOUNT", 3))


@dataclass(frozen=True)
class Scope:
    prefix: str  # the area path the problems are computed for ("" for everything)
    province: str  # the province path the duplicates are looked for in
    today: date


# --- the rows every problem query yields -------------------------------------------------------

_NO_ACCOUNT = Cast(Value(None), BigIntegerField())
_EMPTY = Value({}, output_field=JSONField())


def _rows(qs: QuerySet, *, beneficiary: str, account=None, detail=None) -> QuerySet:
    """The problem columns q_b (beneficiary), q_a (account), q_c (commune), q_p (area path),
    q_d (detail), from a queryset of beneficiaries or of accounts (`beneficiary` names the path
    to the beneficiary: "" or "beneficiary__")."""
    return (
        qs.order_by()
        .annotate(
            q_b=F(beneficiary + "id" if beneficiary else "pk"),
            q_a=F("pk") if account else _NO_ACCOUNT,
            q_c=F(beneficiary + "commune_id"),
            q_p=F(beneficiary + "area_path"),
            q_d=detail if detail is not None else _EMPTY,
        )
        .values("q_b", "q_a", "q_c", "q_p", "q_d")
    )


def _beneficiaries(scope: Scope, *, receiving: bool = True) -> QuerySet:
    qs = Beneficiary.objects.all()
    if scope.prefix:
        qs = qs.filter(area_path__startswith=scope.prefix)
    return qs.filter(status__in=RECEIVING) if receiving else qs


def _accounts(scope: Scope) -> QuerySet:
    qs = ReceivingAccount.objects.all()
    if scope.prefix:
        qs = qs.filter(beneficiary__area_path__startswith=scope.prefix)
    return qs


# --- CCCD and phone ----------------------------------------------------------------------------


def valid_cccd_q() -> Q:
    """The structure check of registry.validation.check_cccd in SQL: 12 digits, a province code
    (a first digit other than 0 is only a warning there), the 4th digit agreeing with the gender
    and the century of birth, digits 5–6 the birth year's last two."""
    rules = cccd_rules()
    century = Q(pk__in=[])
    for digit, (start, gender) in rules.century_gender.items():
        century |= Q(
            q_d4=digit, gender=gender, birth_date__gte=date(start, 1, 1), birth_date__lt=date(start + 100, 1, 1)
        )
    return (
        Q(cccd__regex=r"^[0-9]{12}$")
        & (Q(q_p3__in=sorted(rules.province_codes)) | ~Q(cccd__startswith="0"))
        & century
        & Q(q_yy=F("q_by"))
    )


def _cccd_parts(qs: QuerySet) -> QuerySet:
    return qs.annotate(
        q_p3=Substr("cccd", 1, 3),
        q_d4=Substr("cccd", 4, 1),
        q_yy=Substr("cccd", 5, 2),
        q_by=Substr(Cast(ExtractYear("birth_date"), CharField()), 3, 2),
    )


def cccd_missing(scope: Scope) -> QuerySet:
    return _rows(_beneficiaries(scope).filter(cccd=""), beneficiary="")


def cccd_invalid(scope: Scope) -> QuerySet:
    qs = _cccd_parts(_beneficiaries(scope).exclude(cccd="")).exclude(valid_cccd_q())
    return _rows(qs, beneficiary="")


def phone_missing(scope: Scope) -> QuerySet:
    return _rows(_beneficiaries(scope).filter(phone="", no_phone=False), beneficiary="")


def phone_invalid(scope: Scope) -> QuerySet:
    """A stored number that is not a Vietnamese number in E.164 (registry.validation.check_phone
    stores every number it accepts so): left by an old list or a direct database load."""
    qs = _beneficiaries(scope).exclude(phone="").exclude(phone__regex=r"^\+84[1-9][0-9]{8,9}$")
    return _rows(qs, beneficiary="")


# --- payment method and payee ------------------------------------------------------------------


def no_method(scope: Scope) -> QuerySet:
    """No payment method chosen (none recorded, or every one cancelled)."""
    chosen = _local(PaymentMethod.objects.filter(beneficiary=OuterRef("pk"), cancelled_at__isnull=True), scope)
    return _rows(_beneficiaries(scope).filter(~Exists(chosen)), beneficiary="")


def _local(qs: QuerySet, scope: Scope, beneficiary: str = "beneficiary__") -> QuerySet:
    """A correlated subquery of the beneficiary's rows, also restricted to the area when it is
    smaller than the province (a commune): PostgreSQL evaluates such an EXISTS as one hashed
    subplan, which would otherwise read the whole table for a commune's few thousand people. The
    rows are the same: the subquery's beneficiary is the outer one, inside the area."""
    if not _wide(scope):
        return qs.filter(**{beneficiary + "area_path__startswith": scope.prefix})
    return qs


def _representation_over(scope: Scope, ref: str) -> Q:
    """The representation `ref` points to has ended (or its validity has run out)."""
    return Q(pk=OuterRef(ref)) & (Q(ended_at__isnull=False) | Q(valid_to__lt=scope.today))


def no_payee(scope: Scope) -> QuerySet:
    """A representative must receive the money (a current guardian, or a beneficiary under 16)
    but none is the payee; or the designated payee's representation has ended. The payee is the
    latest designation whatever its month (a change planned from next month fixes it), else,
    before any designation, the registry's current-payee flag."""
    latest = PayeeDesignation.objects.filter(beneficiary=OuterRef("pk"), cancelled_at__isnull=True).order_by(
        "-from_month", "-id"
    )
    try:
        minor_born_after = scope.today.replace(year=scope.today.year - MINOR_AGE)
    except ValueError:  # 29 February
        minor_born_after = scope.today.replace(year=scope.today.year - MINOR_AGE, day=28)
    guardian = _local(
        Representation.objects.filter(
            beneficiary=OuterRef("pk"), kind=RepresentationKind.GUARDIAN, ended_at__isnull=True
        ),
        scope,
    )
    flagged = _local(
        Representation.objects.filter(beneficiary=OuterRef("pk"), is_payee=True, ended_at__isnull=True), scope
    )
    qs = _beneficiaries(scope).annotate(q_rep=Subquery(latest.values("representation_id")[:1]))
    if not _wide(scope):
        # a commune: the designation looked up per person through its index (an EXISTS would be
        # one hashed scan of every designation, three times)
        qs = qs.annotate(q_des_id=Subquery(latest.values("pk")[:1]))
        designated, undesignated = Q(q_des_id__isnull=False), Q(q_des_id__isnull=True)
    else:
        qs = qs.annotate(q_des=Exists(latest))
        designated, undesignated = Q(q_des=True), Q(q_des=False)
    over = Representation.objects.filter(_representation_over(scope, "q_rep"))
    has_payee_rep = (designated & Q(q_rep__isnull=False) & ~Exists(over)) | (undesignated & Exists(flagged))
    needs_rep = Exists(guardian) | Q(birth_date__gt=minor_born_after)
    ended = designated & Q(q_rep__isnull=False) & Exists(over)
    return _rows(qs.filter((needs_rep & ~has_payee_rep) | ended), beneficiary="")


# --- identity verification ---------------------------------------------------------------------


def _identity_edited_after(checked_at_ref: str, beneficiary_ref: str) -> Exists:
    """A correction of the beneficiary's name, date of birth, gender or CCCD recorded after a
    verification result (the audit log of registry.bulk.bulk_update_beneficiaries holds only the
    changed fields)."""
    return Exists(
        AuditEvent.objects.filter(
            object_type="registry.beneficiary",
            object_id=Cast(OuterRef(beneficiary_ref), CharField()),
            action="registry.beneficiary.updated",
            at__gt=OuterRef(checked_at_ref),
            after__has_any_keys=IDENTITY_FIELDS,
        )
    )


def _latest_result() -> QuerySet:
    return VerificationResult.objects.filter(beneficiary=OuterRef("pk")).order_by("-checked_at", "-id")


def unverified(scope: Scope) -> QuerySet:
    """A receiving beneficiary with a well-formed CCCD and a date of birth whom no verification
    result covers as registered now: never checked, checked under another CCCD, or corrected
    since the check."""
    current = VerificationResult.objects.filter(beneficiary=OuterRef("pk"), cccd=OuterRef("cccd")).exclude(
        _identity_edited_after("checked_at", "beneficiary_id")
    )
    qs = _beneficiaries(scope).filter(cccd__regex=r"^[0-9]{12}$").filter(~Exists(current))
    return _rows(qs, beneficiary="")


def _wide(scope: Scope) -> bool:
    """A province or everything (not a commune inside one)."""
    return scope.prefix == scope.province


def _with_latest(scope: Scope, outcomes: tuple[str, ...]) -> QuerySet:
    """The area's receiving beneficiaries with their latest result (q_last, q_outcome), kept only
    when that outcome is one of `outcomes`. Over a province, first only the people with some
    result of those outcomes (one hashed semi-join: a few percent of the people), so that the
    latest result is looked up for those and not for a million; a commune looks it up per person."""
    latest = _latest_result()
    qs = _beneficiaries(scope)
    if _wide(scope):
        qs = qs.filter(pk__in=VerificationResult.objects.filter(outcome__in=outcomes).values("beneficiary_id"))
    return qs.annotate(
        q_last=Subquery(latest.values("pk")[:1]),
        q_outcome=Subquery(latest.values("outcome")[:1]),
    ).filter(q_outcome__in=outcomes)


def identity_mismatch(scope: Scope) -> QuerySet:
    """The latest result says mismatch or not found, about the CCCD registered now, and the
    identity has not been corrected since (a correction closes the item; the person then waits
    for the next verification as unverified)."""
    open_result = VerificationResult.objects.filter(pk=OuterRef("q_last"), cccd=OuterRef("cccd")).exclude(
        _identity_edited_after("checked_at", "beneficiary_id")
    )
    qs = _with_latest(scope, (Outcome.MISMATCH, Outcome.NOT_FOUND)).filter(Exists(open_result))
    detail = JSONObject(result=F("q_last"), outcome=F("q_outcome"))
    return _rows(qs, beneficiary="", detail=detail)


def deceased(scope: Scope) -> QuerySet:
    """The latest result says the person with the registered CCCD died, and no stop decision
    has been recorded (the beneficiary is still receiving or suspended)."""
    same_cccd = VerificationResult.objects.filter(pk=OuterRef("q_last"), cccd=OuterRef("cccd"))
    qs = _with_latest(scope, (Outcome.DECEASED,)).filter(Exists(same_cccd))
    death = Subquery(VerificationResult.objects.filter(pk=OuterRef("q_last")).values("death_date")[:1])
    detail = JSONObject(result=F("q_last"), death_date=death)
    return _rows(qs, beneficiary="", detail=detail)


# --- receiving accounts ------------------------------------------------------------------------


def _live_accounts(scope: Scope) -> QuerySet:
    return _accounts(scope).filter(beneficiary__status__in=RECEIVING)


def weak_name(scope: Scope) -> QuerySet:
    """A pending or active account whose holder name matches the holder's registered name only
    weakly, not yet confirmed by a person."""
    qs = _live_accounts(scope).filter(
        status__in=(AccountStatus.PENDING, AccountStatus.ACTIVE),
        name_score__lt=STRONG_MATCH,
        name_confirmed_at__isnull=True,
    )
    return _rows(qs, beneficiary="beneficiary__", account=True, detail=JSONObject(score=F("name_score")))


def _holder_key(scope: Scope | None = None) -> Case:
    """Who holds an account row: the representative (their id) or the beneficiary (minus id).
    For a commune's accounts the representative is looked up per account (a join would hash
    every representation of the country)."""
    holder = F("holder_representation__representative_id")
    if scope is not None and not _wide(scope):
        holder = Subquery(
            Representation.objects.filter(pk=OuterRef("holder_representation_id")).values("representative_id")[:1]
        )
    return Case(
        When(holder_representation__isnull=False, then=holder),
        default=-F("beneficiary_id"),
        output_field=BigIntegerField(),
    )


def not_represented(scope: Scope) -> QuerySet:
    """An active account receiving for a beneficiary whom its holder does not represent: the
    holder's representation is of another beneficiary or has ended, or the same number is
    registered for another beneficiary with another holder (two people claim one account)."""
    link_over = Representation.objects.filter(pk=OuterRef("holder_representation_id")).filter(
        ~Q(beneficiary_id=OuterRef("beneficiary_id")) | Q(ended_at__isnull=False) | Q(valid_to__lt=scope.today)
    )
    others = (
        ReceivingAccount.objects.filter(number_hash=OuterRef("number_hash"), status=AccountStatus.ACTIVE)
        .exclude(beneficiary_id=OuterRef("beneficiary_id"))
        .annotate(q_hk=_holder_key())
        .exclude(q_hk=OuterRef("q_hk"))
    )
    qs = (
        _live_accounts(scope)
        .filter(status=AccountStatus.ACTIVE)
        .annotate(q_hk=_holder_key(scope))
        .filter((Q(holder_representation__isnull=False) & Exists(link_over)) | Exists(others))
    )
    return _rows(qs, beneficiary="beneficiary__", account=True)


def shared_account(scope: Scope) -> QuerySet:
    """An active account whose number receives for more beneficiaries than the setting allows."""
    counted = (
        ReceivingAccount.objects.filter(number_hash=OuterRef("number_hash"), status=AccountStatus.ACTIVE)
        .order_by()
        .values("number_hash")
        .annotate(n=Count("beneficiary_id", distinct=True))
        .values("n")
    )
    qs = (
        _live_accounts(scope)
        .filter(status=AccountStatus.ACTIVE)
        .annotate(q_n=Subquery(counted, output_field=IntegerField()))
        .filter(q_n__gt=max_per_account())
    )
    return _rows(qs, beneficiary="beneficiary__", account=True, detail=JSONObject(count=F("q_n")))


def stopped_payable(scope: Scope) -> QuerySet:
    """A stopped beneficiary (died, moved, no longer eligible) with a receiving account still
    active or pending: the account a payment method would send money to. (Payroll pays nobody
    stopped; the account must still be closed so that it cannot be used again.)"""
    accounts = _accounts(scope).filter(
        beneficiary__status=Status.STOPPED, status__in=(AccountStatus.ACTIVE, AccountStatus.PENDING)
    )
    return _rows(accounts, beneficiary="beneficiary__", account=True)


# --- likely duplicates -------------------------------------------------------------------------


def duplicate_cccd(scope: Scope) -> QuerySet:
    """Another record with the same CCCD (any commune, any status but moved away: a move is a
    stop in one commune and a start in another, the same person on purpose)."""
    other = (
        Beneficiary.objects.filter(cccd=OuterRef("cccd"))
        .exclude(pk=OuterRef("pk"))
        .exclude(status=Status.STOPPED, stop_reason=StopReason.MOVED)
    )
    qs = _beneficiaries(scope).exclude(cccd="")
    if _wide(scope):
        # over a province, only the CCCDs held by more than one such record (one hash aggregate;
        # the person itself is one of them: it is receiving) are looked up for the other record
        shared = (
            Beneficiary.objects.exclude(cccd="")
            .exclude(status=Status.STOPPED, stop_reason=StopReason.MOVED)
            .order_by()
            .values("cccd")
            .annotate(q_n=Count("id"))
            .filter(q_n__gt=1)
            .values("cccd")
        )
        qs = qs.filter(cccd__in=shared)
    qs = qs.annotate(q_other=Subquery(other.values("pk")[:1]))
    return _rows(qs.filter(q_other__isnull=False), beneficiary="", detail=JSONObject(other=F("q_other")))


def duplicate_name(scope: Scope) -> tuple[str, list]:
    """Another receiving record in the province with the same accent-free name and date of
    birth. Raw SQL (the same on SQLite and PostgreSQL): the province's (name, date of birth)
    pairs that occur more than once, joined to the area's people: one hash aggregate instead of
    a look-up per person."""
    b = Beneficiary._meta.db_table
    statuses = list(RECEIVING)
    inner_where, outer_where = ["d.status IN (%s, %s)"], ["b.status IN (%s, %s)"]
    inner_params: list = [*statuses]
    outer_params: list = [*statuses]
    if scope.province:
        inner_where.append("d.area_path LIKE %s")
        inner_params.append(scope.province + "%")
    if scope.prefix:
        outer_where.append("b.area_path LIKE %s")
        outer_params.append(scope.prefix + "%")
    empty = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    if scope.prefix and scope.prefix != scope.province:
        # an area inside the province (a commune): per person of the area, one look-up of another
        # receiving record with the same (name, date of birth) in the province through the
        # (name_key, birth_date) index (migration quality 0002); the same rows as the aggregate,
        # whose group holds the person itself
        sql = (
            f"SELECT b.id AS q_b, CAST(NULL AS BIGINT) AS q_a, b.commune_id AS q_c, b.area_path AS q_p, {empty} AS q_d "  # noqa: S608
            f"FROM {b} b WHERE {' AND '.join(outer_where)} AND EXISTS (SELECT 1 FROM {b} d "
            f"WHERE d.name_key = b.name_key AND d.birth_date = b.birth_date AND d.id <> b.id "
            f"AND {' AND '.join(inner_where)})"
        )
        return sql, [*outer_params, *inner_params]
    sql = (
        f"SELECT b.id AS q_b, CAST(NULL AS BIGINT) AS q_a, b.commune_id AS q_c, b.area_path AS q_p, {empty} AS q_d "  # noqa: S608
        f"FROM {b} b JOIN (SELECT d.name_key, d.birth_date FROM {b} d WHERE {' AND '.join(inner_where)} "
        f"GROUP BY d.name_key, d.birth_date HAVING COUNT(*) > 1) g "
        f"ON g.name_key = b.name_key AND g.birth_date = b.birth_date WHERE {' AND '.join(outer_where)}"
    )
    return sql, [*inner_params, *outer_params]


ProblemQuery = Callable[[Scope], "QuerySet | list[QuerySet] | tuple[str, list]"]

PROBLEMS: dict[str, ProblemQuery] = {
    Kind.CCCD_MISSING: cccd_missing,
    Kind.CCCD_INVALID: cccd_invalid,
    Kind.PHONE_MISSING: phone_missing,
    Kind.PHONE_INVALID: phone_invalid,
    Kind.NO_METHOD: no_method,
    Kind.NO_PAYEE: no_payee,
    Kind.UNVERIFIED: unverified,
    Kind.IDENTITY_MISMATCH: identity_mismatch,
    Kind.DECEASED: deceased,
    Kind.WEAK_NAME: weak_name,
    Kind.NOT_REPRESENTED: not_represented,
    Kind.SHARED_ACCOUNT: shared_account,
    Kind.STOPPED_PAYABLE: stopped_payable,
    Kind.DUPLICATE_CCCD: duplicate_cccd,
    Kind.DUPLICATE_NAME: duplicate_name,
}


def problem_sql(kind: str, scope: Scope) -> tuple[str, list]:
    """The SQL of a kind's problems: columns q_b, q_a, q_c, q_p, q_d."""
    found = PROBLEMS[kind](scope)
    if isinstance(found, tuple):
        return found
    parts = found if isinstance(found, list) else [found]
    sqls: list[str] = []
    params: list = []
    for qs in parts:
        sql, p = qs.query.sql_with_params()
        sqls.append(f"SELECT q_b, q_a, q_c, q_p, q_d FROM ({sql}) u{len(sqls)}")  # noqa: S608
        params.extend(p)
    return " UNION ALL ".join(sqls), params


# --- the refresh -------------------------------------------------------------------------------

_W = WorklistItem._meta.db_table


_TMP = "quality_problems_tmp"
ANALYZE_AFTER = 10_000


def _refresh_kind(kind: str, scope: Scope, now) -> tuple[int, int]:
    """(opened, closed) for one kind in one scope. The kind's problems are computed once into a
    temporary table (analysed on PostgreSQL, whose planner knows nothing of a fresh temporary
    table otherwise; indexed by beneficiary), then one INSERT adds the new ones and one UPDATE
    closes the gone ones."""
    sql, params = problem_sql(kind, scope)
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_TMP}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_TMP} AS {sql}", params)  # noqa: S608
        cursor.execute(f"CREATE INDEX {_TMP}_b ON {_TMP} (q_b)")
        if postgres:
            cursor.execute(f"ANALYZE {_TMP}")
        cursor.execute(
            f"INSERT INTO {_W} (kind, beneficiary_id, account_id, commune_id, area_path, detail, opened_at) "  # noqa: S608
            f"SELECT %s, p.q_b, p.q_a, p.q_c, p.q_p, p.q_d, %s FROM {_TMP} p "
            f"WHERE NOT EXISTS (SELECT 1 FROM {_W} w WHERE w.closed_at IS NULL AND w.kind = %s "
            "AND w.beneficiary_id = p.q_b AND COALESCE(w.account_id, 0) = COALESCE(p.q_a, 0))",
            [kind, now, kind],
        )
        opened = cursor.rowcount
        if postgres and opened > ANALYZE_AFTER:
            # many rows in one transaction: the planner's figures of the worklist are stale now
            cursor.execute(f"ANALYZE {_W}")
        where_scope, scope_params = ("", [])
        if scope.prefix:
            where_scope, scope_params = (f" AND {_W}.area_path LIKE %s", [scope.prefix + "%"])
        cursor.execute(
            f"UPDATE {_W} SET closed_at = %s WHERE {_W}.closed_at IS NULL AND {_W}.kind = %s{where_scope} "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {_TMP} p WHERE p.q_b = {_W}.beneficiary_id "
            f"AND COALESCE(p.q_a, 0) = COALESCE({_W}.account_id, 0))",
            [now, kind, *scope_params],
        )
        closed = cursor.rowcount
        cursor.execute(f"DROP TABLE {_TMP}")
    return opened, closed


def _sync_places(scope: Scope) -> None:
    """Open items follow their beneficiary to another village of the commune (the village filter
    reads the item's path)."""
    b = Beneficiary._meta.db_table
    where, params = f"{_W}.closed_at IS NULL", []
    if scope.prefix:
        where += f" AND {_W}.area_path LIKE %s"
        params.append(scope.prefix + "%")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_W} SET area_path = (SELECT b.area_path FROM {b} b WHERE b.id = {_W}.beneficiary_id), "  # noqa: S608
            f"commune_id = (SELECT b.commune_id FROM {b} b WHERE b.id = {_W}.beneficiary_id) "
            f"WHERE {where} AND EXISTS (SELECT 1 FROM {b} b WHERE b.id = {_W}.beneficiary_id "
            f"AND (b.area_path <> {_W}.area_path OR b.commune_id <> {_W}.commune_id))",
            params,
        )


def _province_path(area: Area) -> str:
    return "/" + area.path.strip("/").split("/")[0] + "/"


def _scopes(area: Area | None, today: date) -> list[tuple[Area | None, Scope]]:
    """One scope per province that has beneficiaries (everything), or the area's own."""
    if area is not None:
        return [(area, Scope(prefix=area.path, province=_province_path(area), today=today))]
    commune_ids = Beneficiary.objects.order_by().values_list("commune_id", flat=True).distinct()
    paths = Area.objects.filter(pk__in=commune_ids).values_list("path", flat=True)
    provinces = sorted({"/" + p.strip("/").split("/")[0] + "/" for p in paths})
    out: list[tuple[Area | None, Scope]] = []
    for path in provinces:
        province = Area.objects.get(pk=int(path.strip("/")))
        out.append((province, Scope(prefix=path, province=path, today=today)))
    return out


def open_counts(prefix: str = "") -> dict[str, int]:
    qs = WorklistItem.objects.filter(closed_at__isnull=True)
    if prefix:
        qs = qs.filter(area_path__startswith=prefix)
    found = dict(qs.order_by().values_list("kind").annotate(n=Count("id")))
    return {kind: found.get(kind, 0) for kind in Kind.values}


def refresh(*, area: Area | None = None, actor=None, today: date | None = None) -> dict:
    """Recompute the open items of `area` (everything when None); returns and audits a summary:
    items opened and closed per kind, and the open items per kind afterwards."""
    today = today or timezone.localdate()
    opened = dict.fromkeys(Kind.values, 0)
    closed = dict.fromkeys(Kind.values, 0)
    scopes = _scopes(area, today)
    for scope_area, scope in scopes:
        with transaction.atomic():
            if scope_area is not None:  # one refresh at a time per area
                Area.objects.select_for_update().filter(pk=scope_area.pk).first()
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            _sync_places(scope)
            for kind in PROBLEMS:
                o, c = _refresh_kind(kind, scope, now)
                opened[kind] += o
                closed[kind] += c
            if scope_area is not None:
                WorklistRefresh.objects.update_or_create(
                    area=scope_area, defaults={"area_path": scope_area.path, "refreshed_at": timezone.now()}
                )
    summary = {
        "area": area.code if area is not None else "",
        "opened": {k: v for k, v in opened.items() if v},
        "closed": {k: v for k, v in closed.items() if v},
        "open": open_counts(area.path if area is not None else ""),
    }
    if summary["opened"] or summary["closed"]:
        with transaction.atomic():
            record(actor=actor, action="quality.refreshed", area=area, after=summary)
    return summary


def refreshed_at(area: Area):
    """When the worklists of `area` were last brought up to date (its own refresh, or one of an
    area above it, such as the nightly refresh of its province), or None."""
    ids = [int(part) for part in area.path.strip("/").split("/") if part.isdigit()]
    return WorklistRefresh.objects.filter(area_id__in=ids).aggregate(at=Max("refreshed_at"))["at"]


def refresh_commune(*, commune: Area, actor=None) -> dict:
    """The worklist page's refresh button: one commune, cheap (a POST, never a page view)."""
    if commune.level not in (Level.COMMUNE, Level.VILLAGE):
        raise ValueError("refresh_commune takes a commune")
    return refresh(area=commune, actor=actor)
