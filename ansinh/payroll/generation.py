"""Generating a cycle's payroll (issue 10 part 3, first slice: regular allowance lines) and the
comparison with last month. See docs/payment-cycle.md, "Payroll generation".

- Who is paid for month M: the beneficiaries of the cycle's area with a category of the cycle's
  programme in force in M, started on or before M, not suspended, and not stopped before M
  (`end_month`, the last paid month, is M or later: the month of death is paid in full,
  nothing after it).
- Amounts come from the one entitlement function (`policy.entitlement.PolicyTable`), evaluated
  once per distinct (claims, age in whole years on the 1st of M; the province is the cycle's)
  and joined set-based (a temporary table) to the beneficiaries; never re-coded in SQL.
- Payee and channel in effect in M, with the rules of `payments.queries.payee_on` / `method_on`,
  joined in the same INSERT … SELECT.
- Idempotent: the cycle's row is locked (select_for_update), its draft lines deleted and
  recreated in one transaction; refused once the payroll is past "payroll generated"."""

from __future__ import annotations

import json
from datetime import date

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import CURRENT_START
from ansinh.audit.services import record
from ansinh.core.errors import DomainError
from ansinh.payments.models import Institution, Method, PayeeDesignation, PaymentMethod, ReceivingAccount
from ansinh.policy.entitlement import Claim, Entitlement, PolicyMonth
from ansinh.policy.models import Category
from ansinh.registry.models import Beneficiary, BeneficiaryCategory, Representation, Representative, StatusChange
from ansinh.registry.models import Status as RegistryStatus
from ansinh.registry.rules import add_months

from .adjustments import add_adjustment_lines
from .changelists import communes_on_previous_list, copy_previous_lines
from .fees import fee_for
from .models import Channel, CycleState, LineType, PaymentCycle, PayrollLine, PayrollRun
from .scope import SqlScope, beneficiary_in_cycle_q, is_legacy, sql_scope
from .services import TransitionForbidden, contract_for, province_id_of, transition

S = CycleState
GENERATABLE = (S.APPRAISED, S.PAYROLL_GENERATED)
_CHANNEL_OF_METHOD: dict[str, str] = {
    Method.ACCOUNT: Channel.ACCOUNT,
    Method.PAY_POINT: Channel.PAY_POINT,
    Method.HOME: Channel.HOME,
}


class PayrollRefused(DomainError):
    """The payroll cannot be (re)generated now; the message says why."""


def receiving_q(month: date) -> Q:
    """Beneficiaries paid for `month` (registry fields): started on or before it, not suspended,
    and not stopped before it (end_month = the last paid month)."""
    return (
        Q(start_month__lte=month)
        & ~Q(status=RegistryStatus.SUSPENDED)
        & (Q(end_month__isnull=True) | Q(end_month__gte=month))
    )


def _claims_q(cycle: PaymentCycle) -> Q:
    m = cycle.month
    return Q(category__programme_id=cycle.programme_id, from_month__lte=m) & (
        Q(to_month__isnull=True) | Q(to_month__gte=m)
    )


def _beneficiaries(cycle: PaymentCycle):
    with_claim = BeneficiaryCategory.objects.filter(_claims_q(cycle)).values("beneficiary_id")
    return Beneficiary.objects.filter(receiving_q(cycle.month), beneficiary_in_cycle_q(cycle)).filter(pk__in=with_claim)


def _basis(e: Entitlement, claims: tuple[Claim, ...], sensitive_codes: set[str]) -> dict:
    codes = sorted({c.category_code for c in claims})
    return {
        "category": e.category_code,
        "categories": codes,
        "explanation": e.explanation,
        "sensitive": e.sensitive or any(c in sensitive_codes for c in codes),
    }


WORK_MEM = "256MB"  # PostgreSQL's work_mem during a generation (the server's memory, not this process's)
_SEP_FIELD, _SEP_CLAIM = "\x1f", "\x1e"  # inside a claims signature: between fields, between claims
# temporary tables of one generation
_PEOPLE, _AMOUNTS, _METHODS, _PAYEES = (
    "payroll_gen_people",
    "payroll_gen_amounts",
    "payroll_gen_methods",
    "payroll_gen_payees",
)


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _claims_from_signature(signature: str) -> tuple[Claim, ...]:
    """The claims of a signature built by `_people_sql`, in a canonical order."""
    claims = []
    for part in signature.split(_SEP_CLAIM):
        code, condition, units, fixed_key = part.split(_SEP_FIELD)
        claims.append(Claim(category_code=code, condition=condition, units=int(units), fixed_key=fixed_key))
    return tuple(sorted(claims, key=lambda c: (c.category_code, c.condition, c.units, c.fixed_key)))


def _people_sql(cycle: PaymentCycle, skip_communes: list[int], scope: SqlScope | None = None) -> tuple[str, list]:
    """One row per beneficiary paid for the cycle's month (same rules as `_beneficiaries`; the
    cycle's area as `scope.sql_scope` says): id, the signature of the programme's claims in
    force (any order), the age in whole years on the 1st of the month (`age_in_years`: a
    birthday on the 1st counts as passed), and what the line carries from the record (name, the
    path and commune the cycle attributes the person to), so that the lines' INSERT does not
    read the registry a second time."""
    month = cycle.month
    scope = scope or sql_scope(cycle)
    claim = "pc.code || %s || bc.condition || %s || CAST(bc.units AS TEXT) || %s || bc.fixed_key"
    claims_in_force = (
        f"FROM {_t(BeneficiaryCategory)} bc JOIN {_t(Category)} pc ON pc.id = bc.category_id "
        "WHERE pc.programme_id = %s AND bc.from_month <= %s AND (bc.to_month IS NULL OR bc.to_month >= %s)"
    )
    in_force = [cycle.programme_id, month.isoformat(), month.isoformat()]
    if connection.vendor == "postgresql":
        signatures = (
            # no ORDER BY in the aggregate: `_claims_from_signature` puts the claims in their canonical
            # order, so two orders of the same claims give two rows of the amounts table, never two evaluations
            f"SELECT bc.beneficiary_id AS bid, string_agg({claim}, %s) AS sig "  # noqa: S608
            f"{claims_in_force} GROUP BY bc.beneficiary_id"
        )
        born = "CAST(EXTRACT(YEAR FROM b.birth_date) AS INTEGER)", "to_char(b.birth_date, 'MMDD')"
    else:  # SQLite: group_concat follows the order of its ordered sub-query
        signatures = (
            f"SELECT bid, group_concat(claim, %s) AS sig FROM (SELECT bc.beneficiary_id AS bid, {claim} AS claim "  # noqa: S608
            f"{claims_in_force} ORDER BY bc.beneficiary_id, pc.code, bc.condition, bc.units, bc.fixed_key) "
            "GROUP BY bid"
        )
        born = "CAST(strftime('%%Y', b.birth_date) AS INTEGER)", "strftime('%%m%%d', b.birth_date)"
    seps = [_SEP_FIELD] * 3
    sig_params = [*seps, _SEP_CLAIM, *in_force] if connection.vendor == "postgresql" else [_SEP_CLAIM, *seps, *in_force]
    skip = f"AND {scope.commune} NOT IN ({', '.join(['%s'] * len(skip_communes))}) " if skip_communes else ""
    sql = (
        f"SELECT b.id AS bid, s.sig AS sig, {month.year} - {born[0]} - (CASE WHEN {born[1]} > %s THEN 1 ELSE 0 END) "  # noqa: S608
        f"AS age, b.full_name AS full_name, {scope.path} AS area_path, {scope.commune} AS commune_id "
        f"FROM {_t(Beneficiary)} b {scope.join} JOIN ({signatures}) s ON s.bid = b.id "
        f"WHERE {scope.where} AND b.start_month <= %s AND b.status <> %s "
        f"AND (b.end_month IS NULL OR b.end_month >= %s) {skip}"
    )
    params = [
        f"{month:%m}01",
        *sig_params,
        *scope.params,
        month.isoformat(),
        RegistryStatus.SUSPENDED,
        month.isoformat(),
        *skip_communes,
    ]
    return sql, params


def _in_effect_sql(model, month: date, *columns: str) -> str:
    """The row of `model` (a payments history: PaymentMethod, PayeeDesignation) in effect in
    `month` for each beneficiary of the people table: the latest not cancelled from a month on
    or before it (`payments.queries._in_effect`), as a sub-query with `bid` and `columns`.
    PostgreSQL: DISTINCT ON (planned on the number of beneficiaries); SQLite: ROW_NUMBER()."""
    where = (
        f"FROM {_t(model)} h WHERE h.from_month <= '{month.isoformat()}' AND h.cancelled_at IS NULL "  # noqa: S608
        f"AND h.beneficiary_id IN (SELECT bid FROM {_PEOPLE})"
    )
    picked = ", ".join(f"h.{c} AS {c}" for c in columns)
    if connection.vendor == "postgresql":
        return (
            f"(SELECT DISTINCT ON (h.beneficiary_id) h.beneficiary_id AS bid, {picked} {where} "  # noqa: S608
            "ORDER BY h.beneficiary_id, h.from_month DESC, h.id DESC)"
        )
    return (
        f"(SELECT bid, {', '.join(columns)} FROM (SELECT h.beneficiary_id AS bid, {picked}, "  # noqa: S608
        f"ROW_NUMBER() OVER (PARTITION BY h.beneficiary_id ORDER BY h.from_month DESC, h.id DESC) AS rn "
        f"{where}) x WHERE rn = 1)"
    )


def _regular_lines(cycle: PaymentCycle, skip_communes: list[int], stats: dict, *, draft: bool) -> None:
    """Write the cycle's regular lines in a fixed number of statements, whatever the number of
    beneficiaries: (1) the people paid, with their claims signature and age, into a temporary
    table; (2) the entitlement function evaluated in Python once per distinct (claims, age) —
    the province is the cycle's — into a second temporary table (amount, basis); (3) one
    INSERT … SELECT joining them with the payment method and the payee in effect in the month
    (`payments.queries.method_on` / `payee_on`, same rules) and the account snapshot."""
    month = cycle.month
    province = province_id_of(cycle.area_path)
    policy = PolicyMonth.load(month, provinces=[province])
    table = policy.table(province)
    sensitive = {code for code, info in policy.categories.items() if info.sensitive}
    scope = sql_scope(cycle)
    people_sql, people_params = _people_sql(cycle, skip_communes, scope)
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:  # the temporary tables go with the transaction if it fails
        if pg:
            # for this transaction: sorts and hashes of a million rows in memory;
            # for the people's statement alone (set back after it): the claims' signatures grouped
            # from sorted rows (a million groups of one or two strings: a hash of them spills to
            # disk, 4.8 s against 3.2 s) and in this process alone (each parallel worker built the
            # whole hash again, on the same two CPUs)
            cursor.execute(
                f"SET LOCAL work_mem = '{WORK_MEM}'; "
                "SET LOCAL enable_hashagg = off; SET LOCAL max_parallel_workers_per_gather = 0"
            )
        cursor.execute(f"CREATE TEMPORARY TABLE {_PEOPLE} AS {people_sql}", people_params)
        if pg:
            # analysed before the method and payee in effect are read for its people: planned
            # without its statistics they probed the histories' indexes a million times (5.6 and
            # 7 s instead of 2 and 1.3 s)
            cursor.execute(
                "SET LOCAL enable_hashagg = DEFAULT; SET LOCAL max_parallel_workers_per_gather = DEFAULT; "
                f"ANALYZE {_PEOPLE}"
            )
        # the method in effect (with its account's snapshot) and the payee in effect, one row per
        # person, materialised and analysed so that the final join is planned on true sizes
        method = _in_effect_sql(PaymentMethod, month, "method", "account_id")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_METHODS} AS SELECT m.bid AS bid, m.method AS method, "  # noqa: S608
            "ra.id AS account_id, i.code AS institution, ra.last4 AS last4, ra.holder_name AS holder "
            f"FROM {method} m LEFT JOIN {_t(ReceivingAccount)} ra ON ra.id = m.account_id AND m.method = %s "
            f"LEFT JOIN {_t(Institution)} i ON i.id = ra.institution_id",
            [Method.ACCOUNT],
        )
        designation = _in_effect_sql(PayeeDesignation, month, "representation_id")
        # before a beneficiary's first designation (any, even cancelled) the registry's payee flag stands
        flagged = (
            f"SELECT r.beneficiary_id AS bid, r.id AS representation_id FROM {_t(Representation)} r "  # noqa: S608
            f"WHERE r.is_payee AND r.ended_at IS NULL AND r.beneficiary_id IN (SELECT bid FROM {_PEOPLE}) "
            f"AND NOT EXISTS (SELECT 1 FROM {_t(PayeeDesignation)} d WHERE d.beneficiary_id = r.beneficiary_id)"
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_PAYEES} AS SELECT x.bid AS bid, rep.id AS representation_id, "  # noqa: S608
            f"rp.full_name AS payee_name FROM (SELECT bid, representation_id FROM {designation} d "
            f"WHERE representation_id IS NOT NULL UNION ALL {flagged}) x "
            f"JOIN {_t(Representation)} rep ON rep.id = x.representation_id "
            f"JOIN {_t(Representative)} rp ON rp.id = rep.representative_id"
        )
        if pg:
            cursor.execute(f"ANALYZE {_METHODS}, {_PAYEES}")
        cursor.execute(
            f"SELECT p.sig, p.age, COUNT(*), SUM(CASE WHEN m.bid IS NULL THEN 1 ELSE 0 END) FROM {_PEOPLE} p "  # noqa: S608
            f"LEFT JOIN {_METHODS} m ON m.bid = p.bid GROUP BY p.sig, p.age"
        )
        groups = cursor.fetchall()
        memo: dict[tuple, Entitlement | None] = {}
        amounts = []
        for signature, age, count, without_method in groups:
            claims = _claims_from_signature(signature)
            key = (claims, age)
            if key not in memo:
                # the entitlement depends on the birth date only through the age on the 1st
                birth = None if age is None else date(month.year - age, month.month, 1)
                memo[key] = table.entitlement(claims, birth)
            e = memo[key]
            if e is None:
                stats["without_entitlement"] += count
                continue
            stats["without_method"] += without_method
            amounts.append((signature, age, e.amount, json.dumps(_basis(e, claims, sensitive))))
        stats["evaluations"] += len(memo)
        json_type = "JSONB" if pg else "TEXT"
        cursor.execute(f"CREATE TEMPORARY TABLE {_AMOUNTS} (sig TEXT, age INTEGER, amount BIGINT, basis {json_type})")
        cursor.executemany(f"INSERT INTO {_AMOUNTS} (sig, age, amount, basis) VALUES (%s, %s, %s, %s)", amounts)  # noqa: S608
        if pg:  # its few hundred rows known to the planner: the lines' join is estimated at a million, not 33,000
            cursor.execute(f"ANALYZE {_AMOUNTS}")
        channel = (
            "CASE m.method WHEN %s THEN %s WHEN %s THEN %s WHEN %s THEN %s ELSE %s END",
            [Method.ACCOUNT, Channel.ACCOUNT, Method.PAY_POINT, Channel.PAY_POINT, Method.HOME, Channel.HOME],
        )
        select = (
            f"SELECT p.bid AS beneficiary_id, a.amount AS amount, y.representation_id AS representation_id, "  # noqa: S608
            f"COALESCE(y.payee_name, p.full_name) AS payee_name, {channel[0]} AS channel, "
            "m.account_id AS account_id, COALESCE(m.institution, '') AS account_institution, "
            "COALESCE(m.last4, '') AS account_last4, COALESCE(m.holder, '') AS account_holder, "
            "p.area_path AS area_path, p.commune_id AS commune_id, a.basis AS basis "
            f"FROM {_PEOPLE} p JOIN {_AMOUNTS} a ON a.sig = p.sig AND a.age = p.age "
            f"LEFT JOIN {_METHODS} m ON m.bid = p.bid LEFT JOIN {_PAYEES} y ON y.bid = p.bid"
        )
        select_params = [*channel[1], Channel.PAY_POINT]
        if draft:
            _replace_draft(cursor, cycle, select, select_params)
        else:
            cursor.execute(
                f"INSERT INTO {_t(PayrollLine)} (cycle_id, line_type, months, created_at, {_LINE_COLUMNS}) "  # noqa: S608
                f"SELECT %s, %s, %s, %s, {_LINE_COLUMNS} FROM ({select}) n ORDER BY n.beneficiary_id",
                [cycle.pk, LineType.REGULAR, "{}", timezone.now(), *select_params],
            )
        temporary = [_PEOPLE, _AMOUNTS, _METHODS, _PAYEES]
        for names in [temporary] if pg else [[name] for name in temporary]:  # SQLite drops one at a time
            cursor.execute(f"DROP TABLE {', '.join(names)}")


_LINE_COLUMNS = (
    "beneficiary_id, amount, representation_id, payee_name, channel, account_id, account_institution, "
    "account_last4, account_holder, area_path, commune_id, basis"
)
_NEW = "payroll_gen_lines"


def _replace_draft(cursor, cycle: PaymentCycle, select: str, params: list) -> None:
    """Re-generation of a draft: the new regular lines go into a temporary table; the draft's
    lines that differ in any way (and every line of another type: the adjustments are added
    again after) are deleted, the missing ones inserted. A re-generation that changes little
    writes little. A draft has no paid months and no fixes (those exist only once approved)."""
    lines = _t(PayrollLine)
    cursor.execute(f"DROP TABLE IF EXISTS {_NEW}")
    cursor.execute(f"CREATE TEMPORARY TABLE {_NEW} AS {select}", params)
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {_NEW}")
    cols = _LINE_COLUMNS.split(", ")
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    equal = f"({', '.join(f'n.{c}' for c in cols)}) {same} ({', '.join(f'l.{c}' for c in cols)})"
    cursor.execute(f"DELETE FROM {lines} WHERE cycle_id = %s AND line_type <> %s", [cycle.pk, LineType.REGULAR])  # noqa: S608
    cursor.execute(  # one join on the beneficiary, the rows compared as a whole (null-safe)
        f"DELETE FROM {lines} WHERE id IN (SELECT l.id FROM {lines} l LEFT JOIN {_NEW} n "  # noqa: S608
        f"ON n.beneficiary_id = l.beneficiary_id WHERE l.cycle_id = %s AND NOT ({equal}))",
        [cycle.pk],
    )
    cursor.execute(
        f"INSERT INTO {lines} (cycle_id, line_type, months, created_at, {_LINE_COLUMNS}) "  # noqa: S608
        f"SELECT %s, %s, %s, %s, {_LINE_COLUMNS} FROM {_NEW} n WHERE NOT EXISTS (SELECT 1 FROM {lines} l "
        "WHERE l.cycle_id = %s AND l.beneficiary_id = n.beneficiary_id AND l.line_type = %s) "
        "ORDER BY n.beneficiary_id",
        [cycle.pk, LineType.REGULAR, "{}", timezone.now(), cycle.pk, LineType.REGULAR],
    )
    cursor.execute(f"DROP TABLE {_NEW}")


def summarize(cycle: PaymentCycle) -> dict:
    """Counts and amounts of the cycle's lines, per channel and line type (one query)."""
    per_channel: dict[str, dict[str, int]] = {c: {"lines": 0, "amount": 0} for c in Channel.values}
    per_type: dict[str, dict[str, int]] = {t: {"lines": 0, "amount": 0} for t in LineType.values}
    for channel, line_type, n, amount in (
        PayrollLine.objects.filter(cycle=cycle)
        .values_list("channel", "line_type")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    ):
        for bucket in (per_channel[channel], per_type[line_type]):
            bucket["lines"] += n
            bucket["amount"] += int(amount or 0)
    return {
        "lines": sum(v["lines"] for v in per_type.values()),
        "total_amount": sum(v["amount"] for v in per_type.values()),
        "per_channel": per_channel,
        "per_line_type": per_type,
    }


def expected_fee(cycle: PaymentCycle, summary: dict) -> dict:
    """The fee expected under the contract in force (settlement's figure is the one that counts)."""
    from .models import ContractPurpose

    funeral = summary["per_line_type"].get(LineType.FUNERAL, {"lines": 0, "amount": 0})
    out: dict = {"fee_total": 0, "fee_note": ""}
    contract = contract_for(cycle)
    if contract is None:
        out["fee_note"] = _("No provider contract in force covers this cycle: no fee expected.")
    else:  # monthly allowances: every line but funeral support, which has its own contract
        paid = (
            PayrollLine.objects.filter(cycle=cycle, amount__gt=0)
            .exclude(line_type=LineType.FUNERAL)
            .values("beneficiary_id")
            .distinct()
            .count()
        )
        out["fee_total"] = fee_for(contract, paid, max(int(summary["total_amount"]) - int(funeral["amount"]), 0))
    if funeral["lines"]:
        funeral_contract = contract_for(cycle, ContractPurpose.FUNERAL_EMERGENCY)
        if funeral_contract is None:
            note = _("No funeral support contract covers this cycle: no fee expected for funeral support.")
            out["fee_note"] = f"{out['fee_note']} {note}".strip()
        else:
            out["fee_total"] += fee_for(funeral_contract, int(funeral["lines"]), int(funeral["amount"]))
    return out


@transaction.atomic
def generate_payroll(*, actor, cycle: PaymentCycle) -> dict:
    """(Re)generate the cycle's draft payroll and move it to "payroll generated". Returns the
    summary (also stored as the cycle's PayrollRun and audited as one event)."""
    cycle = (
        PaymentCycle.objects.select_for_update().select_related("area", "programme", "approving_unit").get(pk=cycle.pk)
    )
    if actor is not None and not access.can_in_area(actor, Cap.PAYROLL_PREPARE, cycle.area):
        raise TransitionForbidden(_("Your role does not allow preparing the payroll here."))
    if cycle.state not in GENERATABLE:
        raise PayrollRefused(
            _(
                "The payroll can be generated only when the cycle is appraised or its payroll is a draft "
                "(now: %(state)s)."
            )
            % {"state": S(cycle.state).label}
        )
    replaced = PayrollLine.objects.filter(cycle=cycle).count()  # the draft's lines, replaced
    stats = {"evaluations": 0, "without_entitlement": 0, "without_method": 0}
    on_previous = communes_on_previous_list(cycle)
    _regular_lines(cycle, on_previous, stats, draft=replaced > 0)
    stats["copied_from_previous"] = copy_previous_lines(cycle, on_previous)
    add_adjustment_lines(cycle, actor=actor, stats=stats)
    summary = summarize(cycle)
    now = timezone.now()
    PayrollRun.objects.update_or_create(
        cycle=cycle,
        defaults={
            "lines": summary["lines"],
            "total_amount": summary["total_amount"],
            "per_channel": summary["per_channel"],
            "per_line_type": summary["per_line_type"],
            "generated_at": now,
            "generated_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    summary |= expected_fee(cycle, summary) | stats | {"replaced_lines": replaced}
    summary |= {"cycle": cycle.pk, "month": f"{cycle.month:%Y-%m}", "programme": cycle.programme.code}
    record(actor=actor, action="payroll.payroll.generated", obj=cycle, area=cycle.area, after=summary)
    if cycle.state == S.APPRAISED:
        transition(actor=actor, cycle=cycle, to_state=S.PAYROLL_GENERATED)
    return summary


# --- comparison with last month -------------------------------------------------------------------

COMPARE_LIMIT = 500  # items listed per kind of difference (the counts are complete)
_DIFF = "payroll_cmp_diff"  # temporary table of one comparison
_KINDS = ("added", "removed", "amount_changed", "payee_changed", "channel_changed")


def _lines_sql(alias: str, by_beneficiary: bool = False) -> str:
    """The regular lines of one month, programme and area (whatever cycle held them): by the
    lines' own path, or (`by_beneficiary`) by the path the beneficiaries have now — the month
    before the 2025 reform, whose lines carry the pre-2025 communes, seen from a cycle of the
    current tree."""
    where = (
        f"l.beneficiary_id IN (SELECT b.id FROM {_t(Beneficiary)} b WHERE b.area_path LIKE %s)"  # noqa: S608
        if by_beneficiary
        else "l.area_path LIKE %s"
    )
    return (
        f"(SELECT l.beneficiary_id AS bid, l.amount, l.representation_id AS rep, l.channel, l.account_id "  # noqa: S608
        f"FROM {_t(PayrollLine)} l WHERE l.line_type = %s AND {where} AND l.cycle_id IN "
        f"(SELECT c.id FROM {_t(PaymentCycle)} c WHERE c.month = %s AND c.programme_id = %s)) {alias}"
    )


def _differences(cycle: PaymentCycle, previous_month: date) -> tuple[int, int, dict[str, int], dict[str, list]]:
    """Set-based: the two months' lines joined once (FULL OUTER JOIN on the beneficiary); the
    differing pairs go into a temporary table, counted in one aggregate and listed with LIMIT."""
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    both = "n.bid IS NOT NULL AND p.bid IS NOT NULL"
    flags = {
        "added": "p.bid IS NULL",
        "removed": "n.bid IS NULL",
        "amount_changed": f"{both} AND n.amount <> p.amount",
        "payee_changed": f"{both} AND n.rep {differs} p.rep",
        "channel_changed": f"{both} AND (n.channel <> p.channel OR n.account_id {differs} p.account_id)",
    }
    columns = ", ".join(f"CASE WHEN {cond} THEN 1 ELSE 0 END AS {kind}" for kind, cond in flags.items())
    # a cycle of the current tree compared with June 2025: those lines carry the pre-2025 communes
    across = not is_legacy(cycle) and cycle.month >= CURRENT_START > previous_month
    params: list[int | str] = []
    for month in (cycle.month, previous_month):
        params += [LineType.REGULAR, cycle.area_path + "%", month.isoformat(), cycle.programme_id]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_DIFF}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_DIFF} AS SELECT COALESCE(n.bid, p.bid) AS bid, "  # noqa: S608
            "n.amount AS n_amount, p.amount AS p_amount, n.rep AS n_rep, p.rep AS p_rep, "
            f"n.channel AS n_channel, p.channel AS p_channel, {columns} "
            f"FROM {_lines_sql('n')} FULL OUTER JOIN {_lines_sql('p', across)} ON n.bid = p.bid "
            f"WHERE {' OR '.join(f'({c})' for c in flags.values())}",
            params,
        )
        totals = []
        for half, by_beneficiary in ((params[:4], False), (params[4:], across)):
            cursor.execute(f"SELECT COUNT(*) FROM {_lines_sql('x', by_beneficiary)}", half)  # noqa: S608
            totals.append(cursor.fetchone()[0])
        cursor.execute(f"SELECT {', '.join(f'COALESCE(SUM({k}), 0)' for k in _KINDS)} FROM {_DIFF}")  # noqa: S608
        counts = dict(zip(_KINDS, (int(v) for v in cursor.fetchone()), strict=True))
        lists: dict[str, list] = {}
        for kind in _KINDS:
            cursor.execute(
                f"SELECT bid, n_amount, p_amount, n_rep, p_rep, n_channel, p_channel FROM {_DIFF} "  # noqa: S608
                f"WHERE {kind} = 1 ORDER BY bid LIMIT {COMPARE_LIMIT}"
            )
            lists[kind] = cursor.fetchall()
        cursor.execute(f"DROP TABLE {_DIFF}")
    return totals[0], totals[1], counts, lists


def compare_with_previous(cycle: PaymentCycle) -> dict:
    """Who was added, removed, or changed amount, payee or channel since last month's regular
    lines of the same programme in the cycle's area (whatever cycle held them: the approving
    unit changed in 2025), and why where the registry says it. Set-based (one join of the two
    months, a few small reads); lists are capped at COMPARE_LIMIT per kind, counts are complete."""
    previous_month = add_months(cycle.month, -1)
    lines, previous_lines, counts, lists = _differences(cycle, previous_month)
    shown = {row[0] for rows in lists.values() for row in rows}
    people = {
        pk: (name, status, reason, end_month)
        for pk, name, status, reason, end_month in Beneficiary.objects.filter(pk__in=shown).values_list(
            "pk", "full_name", "status", "stop_reason", "end_month"
        )
    }
    started = set(
        StatusChange.objects.filter(
            beneficiary_id__in=[row[0] for row in lists["added"]],
            effective_month=cycle.month,
            to_status=RegistryStatus.ACTIVE,
        ).values_list("beneficiary_id", flat=True)
    )

    def item(pk: int, reason: str, old=None, new=None) -> dict:
        return {"beneficiary_id": pk, "name": people.get(pk, ("",))[0], "reason": reason, "before": old, "after": new}

    def why_removed(pk: int) -> str:
        _name, status, stop_reason, end_month = people.get(pk, ("", "", "", None))
        if status == RegistryStatus.STOPPED and end_month is not None and end_month < cycle.month:
            return "stopped:" + (stop_reason or "other")
        if status == RegistryStatus.SUSPENDED:
            return "suspended"
        return "other"

    return {
        "month": f"{cycle.month:%Y-%m}",
        "previous_month": f"{previous_month:%Y-%m}",
        "previous_lines": previous_lines,
        "lines": lines,
        "counts": counts,
        "added": [item(b, "new_decision" if b in started else "other", None, n) for b, n, *_r in lists["added"]],
        "removed": [item(b, why_removed(b), p, None) for b, _n, p, *_r in lists["removed"]],
        "amount_changed": [item(r[0], "entitlement_changed", r[2], r[1]) for r in lists["amount_changed"]],
        "payee_changed": [item(r[0], "payee_change", r[4], r[3]) for r in lists["payee_changed"]],
        "channel_changed": [item(r[0], "method_change", r[6], r[5]) for r in lists["channel_changed"]],
    }
