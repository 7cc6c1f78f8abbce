"""The public status lookup (issue 12, part 5): every write of ansinh.lookup.

A person gives a CCCD and either the last four digits of the registered phone (the beneficiary's,
or a current representative's) or a one-time code sent by SMS to it. Each attempt:
1. counts against the client's and the CCCD's windows (`RateCounter`, fixed windows in the
   database so that every server process shares them); over a limit → `rate_limited`;
2. is answered the same way whether the CCCD is unknown or the digits are wrong (`no_match`),
   with the same single query in both cases;
3. is logged (`LookupLog`), with keyed hashes of the CCCD and of the client only.

The lookup log is its own audit trail (one row per attempt, on a public page with no actor): no
audit event is written for an attempt; queuing the SMS writes the outbox's own event."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ansinh.registry.models import Beneficiary, Representation, Representative, Status
from ansinh.registry.validation import can_receive_sms

from .models import LookupCode, LookupKind, LookupLog, LookupOutcome, RateCounter
from .status import MonthStatus, first_of_month, lines_params, month_status, person_lines_sql, status_of

CODE_DIGITS = 6
CODE_MINUTES = 10
CODE_TRIES = 3


@dataclass(frozen=True)
class Answer:
    outcome: str  # a LookupOutcome
    status: MonthStatus | None = None
    name: str = ""  # the full name (masked by the page)
    retry_minutes: int = 0  # when rate-limited: until the window is over

    @property
    def limited(self) -> bool:
        return self.outcome == LookupOutcome.RATE_LIMITED


# --- hashing ------------------------------------------------------------------------------------


def cccd_hash(cccd: str) -> str:
    """The keyed hash of a CCCD (HMAC-SHA256 with SECRET_KEY): the only form stored."""
    return salted_hmac("ansinh.lookup.cccd", cccd, algorithm="sha256").hexdigest()


def client_hash(address: str) -> str:
    return salted_hmac("ansinh.lookup.client", address, algorithm="sha256").hexdigest()


def _code_hash(salt: str, code: str) -> str:
    return salted_hmac("ansinh.lookup.code", f"{salt}:{code}", algorithm="sha256").hexdigest()


# --- the hot path's statements --------------------------------------------------------------------


def _cursor():
    """A cursor for the statements of the public page (Django's wrapper: its error translation,
    query log and execute wrappers apply). On PostgreSQL, a server-side-binding cursor whose
    statements are prepared on their first use and then executed by name: the planner spent
    more on them than the executor (about 0.6 ms against 0.1 ms for the person look-up, with the
    beneficiary table's twenty indexes), and a prepared statement is planned once per connection
    (persistent connections: CONN_MAX_AGE). Django disables preparation by default for
    transaction-pooling PgBouncers; behind one older than 1.21 set ANSINH_LOOKUP_PREPARED=0.
    Django's own cursors stay client-side-binding, never prepared."""
    if connection.vendor != "postgresql" or not getattr(settings, "ANSINH_LOOKUP_PREPARED", True):
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = 0  # only server-side-binding cursors (these) are ever prepared
    # Django's wrapper, as connection.cursor() gives (debug log, execute wrappers, error translation)
    return connection._prepare_cursor(psycopg.Cursor(raw))  # type: ignore[attr-defined]


def _fetch(sql: str, params: list) -> list[tuple]:
    with _cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


# --- rate limits -------------------------------------------------------------------------------------


def _limit(setting: str) -> tuple[int, int]:
    count, seconds = str(setting).split("/", 1)
    return int(count), int(seconds)


def _hits(keys: list[tuple[str, int]], now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """Count one more hit in the current window of each (key, window seconds); returns each
    count (this hit included) and the end of its window. One atomic statement for all the keys
    (keys sorted, so that concurrent requests lock their rows in the same order): concurrent hits
    never lose a count."""
    rows: dict[str, tuple[int, dt.datetime]] = {}
    params: list = []
    for key, seconds in keys:
        window = int(now.timestamp()) // seconds
        ends = dt.datetime.fromtimestamp((window + 1) * seconds, tz=dt.UTC)
        rows[f"{key}:{window}"] = (seconds, ends)
    for full_key in sorted(rows):
        params += [full_key, _timestamp(rows[full_key][1])]
    q = connection.ops.quote_name
    table, k, n, e = q(RateCounter._meta.db_table), q("key"), q("count"), q("expires_at")
    values = ", ".join(["(%s, 1, %s)"] * len(rows))
    counts = dict(
        _fetch(
            f"INSERT INTO {table} ({k}, {n}, {e}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({k}) DO UPDATE SET {n} = {table}.{n} + 1 RETURNING {k}, {n}",
            params,
        )
    )
    out = []
    for key, seconds in keys:
        full_key = f"{key}:{int(now.timestamp()) // seconds}"
        out.append((counts[full_key], rows[full_key][1]))
    return out


def _allowed(client_h: str, cccd_h: str, now: dt.datetime) -> tuple[bool, int]:
    """Count the attempt against the client's window and the CCCD's (one statement). Returns
    (allowed, minutes until the window that refused it is over)."""
    checks = [("c", client_h, settings.ANSINH_LOOKUP_LIMIT_CLIENT), ("n", cccd_h, settings.ANSINH_LOOKUP_LIMIT_CCCD)]
    limits = [_limit(setting) for _scope, _h, setting in checks]
    counted = _hits(
        [(f"{scope}:{h[:40]}", seconds) for (scope, h, _s), (_m, seconds) in zip(checks, limits, strict=True)], now
    )
    for (most, _seconds), (count, ends) in zip(limits, counted, strict=True):
        if count > most:
            return False, max(1, -(-int((ends - now).total_seconds()) // 60))
    return True, 0


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete the counters whose window is over and the codes past their time (run now and then:
    `manage.py purge_lookups`, and by the lookups themselves once in a while)."""
    now = now or timezone.now()
    n, _ = RateCounter.objects.filter(expires_at__lt=now).delete()
    m, _ = LookupCode.objects.filter(expires_at__lt=now - dt.timedelta(days=1)).delete()
    return n + m


# --- finding the person -------------------------------------------------------------------------------


_ORDER: dict[str, int] = {Status.ACTIVE: 0, Status.SUSPENDED: 1, Status.STOPPED: 2}


def _current_representations(today: dt.date):
    return Representation.objects.filter(ended_at__isnull=True).filter(
        (Q(valid_from__isnull=True) | Q(valid_from__lte=today)) & (Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    )


@functools.cache
def _match_sql() -> str:
    """The person with a CCCD (%s) whose phone, or a current representative's (on the day %s, %s),
    ends with the given digits (%s, %s): one indexed query (the CCCD's index), whether the CCCD
    is unknown or the digits are wrong. A stopped record and a current one may share a CCCD: the
    current one first (active, suspended, stopped, then the newest). The same conditions as
    `_current_representations`."""
    b, x, r = (m._meta.db_table for m in (Beneficiary, Representation, Representative))
    rank = " ".join(f"WHEN '{status}' THEN {n}" for status, n in _ORDER.items())
    return (
        f"SELECT b.id, b.full_name FROM {b} b WHERE b.cccd = %s AND (b.phone LIKE %s "  # noqa: S608
        f"OR EXISTS (SELECT 1 FROM {x} x JOIN {r} r ON r.id = x.representative_id "
        "WHERE x.beneficiary_id = b.id AND x.ended_at IS NULL "
        "AND (x.valid_from IS NULL OR x.valid_from <= %s) AND (x.valid_to IS NULL OR x.valid_to >= %s) "
        f"AND r.phone LIKE %s)) ORDER BY CASE b.status {rank} ELSE 9 END, b.id DESC LIMIT 1"
    )


def _find(cccd: str, last4: str, today: dt.date) -> tuple[int, str, MonthStatus] | None:
    """The matching person (`_match_sql`) with their status of the month, in ONE statement
    (`status.person_lines_sql`); None for no match (an unknown CCCD and wrong digits alike)."""
    if not (last4.isdigit() and len(last4) == 4):
        return None
    current = first_of_month(today)
    day = connection.ops.adapt_datefield_value(today)
    rows = _fetch(
        person_lines_sql(_match_sql()),
        [cccd, f"%{last4}", day, day, f"%{last4}", *lines_params(current)],
    )
    if not rows:
        return None
    return rows[0][0], rows[0][1], status_of([row[2:] for row in rows], current)


def _person(cccd: str) -> Beneficiary | None:
    rows = list(Beneficiary.objects.filter(cccd=cccd).only("id", "full_name", "status", "phone")[:5])
    rows.sort(key=lambda b: (_ORDER.get(b.status, 9), -b.pk))
    return rows[0] if rows else None


def _sms_phone(beneficiary: Beneficiary, today: dt.date) -> tuple[str, object | None]:
    """Where the code goes: the beneficiary's mobile, else the current payee representative's,
    else another current representative's (phone, representative or None)."""
    if can_receive_sms(beneficiary.phone):
        return beneficiary.phone, None
    links = (
        _current_representations(today)
        .filter(beneficiary=beneficiary)
        .exclude(representative__phone="")
        .select_related("representative")
        .order_by("-is_payee", "id")
    )
    for link in links:
        if can_receive_sms(link.representative.phone):
            return link.representative.phone, link.representative
    return "", None


@functools.cache
def _log_sql() -> str:
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ("at", "kind", "cccd_hash", "client_hash", "outcome", "beneficiary_id"))
    return f"INSERT INTO {q(LookupLog._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608


def _timestamp(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _log(kind: str, cccd_h: str, client_h: str, outcome: str, now: dt.datetime, beneficiary=None) -> None:
    """One `LookupLog` row (a plain INSERT: the ORM's save cost more than the statement);
    `beneficiary` is a Beneficiary, its id or None."""
    beneficiary_id = getattr(beneficiary, "pk", beneficiary)
    with _cursor() as cur:
        cur.execute(_log_sql(), [_timestamp(now), str(kind), cccd_h, client_h, str(outcome), beneficiary_id])
    if _purge_due():  # now and then, the windows that are over
        purge_expired(now=now)


PURGE_ONE_IN = 200  # a lookup sweeps the finished windows and old codes once in this many, drawn


def _purge_due() -> bool:
    return secrets.randbelow(PURGE_ONE_IN) == 0


def _shown(beneficiary: Beneficiary, today: dt.date) -> Answer:
    return Answer(LookupOutcome.SHOWN, status=month_status(beneficiary.pk, today=today), name=beneficiary.full_name)


# --- the three requests ------------------------------------------------------------------------------


@transaction.atomic
def look_up(*, cccd: str, last4: str, client: str, now: dt.datetime | None = None) -> Answer:
    """The month's status for a CCCD and the last four digits of a registered phone."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cccd_h, client_h = cccd_hash(cccd), client_hash(client)
    ok, minutes = _allowed(client_h, cccd_h, now)
    if not ok:
        _log(LookupKind.PHONE, cccd_h, client_h, LookupOutcome.RATE_LIMITED, now)
        return Answer(LookupOutcome.RATE_LIMITED, retry_minutes=minutes)
    found = _find(cccd, last4, today)
    if found is None:
        _log(LookupKind.PHONE, cccd_h, client_h, LookupOutcome.NO_MATCH, now)
        return Answer(LookupOutcome.NO_MATCH)
    beneficiary_id, name, status = found
    _log(LookupKind.PHONE, cccd_h, client_h, LookupOutcome.SHOWN, now, beneficiary_id)
    return Answer(LookupOutcome.SHOWN, status=status, name=name)


@transaction.atomic
def send_code(*, cccd: str, client: str, now: dt.datetime | None = None) -> Answer:
    """A one-time code by SMS to the registered phone. Answers `otp_sent` whether or not the CCCD
    is registered (a code row is written either way; only a registered person gets an SMS)."""
    from ansinh.notifications.services import NotificationError, queue

    now = now or timezone.now()
    today = timezone.localdate(now)
    cccd_h, client_h = cccd_hash(cccd), client_hash(client)
    ok, minutes = _allowed(client_h, cccd_h, now)
    if not ok:
        _log(LookupKind.CODE_REQUEST, cccd_h, client_h, LookupOutcome.RATE_LIMITED, now)
        return Answer(LookupOutcome.RATE_LIMITED, retry_minutes=minutes)
    beneficiary = _person(cccd)
    phone, representative = _sms_phone(beneficiary, today) if beneficiary else ("", None)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    # a new code replaces the earlier ones of the CCCD
    LookupCode.objects.filter(cccd_hash=cccd_h, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    row = LookupCode.objects.create(
        cccd_hash=cccd_h,
        beneficiary=beneficiary if phone else None,
        salt=salt,
        code_hash=_code_hash(salt, code),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
    )
    if phone:
        try:
            queue(
                actor=None,
                key="lookup.code",
                variables={"code": code, "minutes": CODE_MINUTES},
                idempotency_key=f"lookup.code:{row.pk}",
                phone=phone,
                beneficiary=None if representative else beneficiary,
                representative=representative,
                area=None,
            )
        except NotificationError:
            LookupCode.objects.filter(pk=row.pk).update(beneficiary=None)
    _log(LookupKind.CODE_REQUEST, cccd_h, client_h, LookupOutcome.OTP_SENT, now, beneficiary)
    return Answer(LookupOutcome.OTP_SENT)


@transaction.atomic
def check_code(*, cccd: str, code: str, client: str, now: dt.datetime | None = None) -> Answer:
    """The month's status for a CCCD and the code sent to it: the latest live code of the CCCD,
    at most `CODE_TRIES` tries, used once. A wrong code answers like wrong phone digits."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cccd_h, client_h = cccd_hash(cccd), client_hash(client)
    ok, minutes = _allowed(client_h, cccd_h, now)
    if not ok:
        _log(LookupKind.CODE, cccd_h, client_h, LookupOutcome.RATE_LIMITED, now)
        return Answer(LookupOutcome.RATE_LIMITED, retry_minutes=minutes)
    row = (
        LookupCode.objects.select_for_update()
        .filter(cccd_hash=cccd_h, used_at__isnull=True, expires_at__gt=now, tries__lt=CODE_TRIES)
        .order_by("-created_at", "-id")
        .first()
    )
    good = row is not None and hmac.compare_digest(row.code_hash, _code_hash(row.salt, code))
    if row is not None and (not good or row.beneficiary_id is None):
        row.tries += 1
        row.save(update_fields=["tries"])
    if not good or row is None or row.beneficiary_id is None:
        _log(LookupKind.CODE, cccd_h, client_h, LookupOutcome.OTP_FAILED, now)
        return Answer(LookupOutcome.NO_MATCH)
    row.used_at = now
    row.save(update_fields=["used_at"])
    beneficiary = Beneficiary.objects.only("id", "full_name").get(pk=row.beneficiary_id)
    _log(LookupKind.CODE, cccd_h, client_h, LookupOutcome.SHOWN, now, beneficiary)
    return _shown(beneficiary, today)
