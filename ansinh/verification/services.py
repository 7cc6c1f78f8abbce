"""Writes of identity verification: a verification run for a commune (commune police), and the
synthetic population register the sandbox adapter answers from (the demo).

A run asks the configured adapter about every beneficiary (receiving or suspended) and every
representative of the commune who has a CCCD, in chunks, and stores one result per person. A
deceased beneficiary's result proposes a stop decision; an officer confirms it with the registry's
`record_decision`. Nothing here changes a beneficiary."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level
from ansinh.audit.services import record
from ansinh.core.text import strip_accents
from ansinh.registry.models import Beneficiary, Representative, Status

from .adapters import PersonQuery, get_adapter
from .models import Outcome, SyntheticResident, VerificationResult, VerificationRun

CHUNK = 500
_CHECKED_STATUSES = (Status.ACTIVE, Status.SUSPENDED)


def _chunks(qs, fields: tuple[str, ...]) -> Iterator[list[dict]]:
    """Keyset pagination by id: bounded memory on a commune of any size."""
    last = 0
    while True:
        rows = list(qs.filter(pk__gt=last).order_by("pk").values("pk", *fields)[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1]["pk"]


_FIELDS = ("cccd", "full_name", "birth_date", "gender", "area_path")


@transaction.atomic
def run_verification(*, actor, commune: Area, adapter_name: str | None = None) -> VerificationRun:
    """Verify the identities of a commune's people; returns the run with its counts. Another
    run the same day is a new version (`sequence`); earlier runs stay as they were. If the
    population database fails, nothing is stored (AdapterError propagates)."""
    if commune.level != Level.COMMUNE:
        raise ValidationError({"commune": _("Identity verification runs for one commune.")})
    if actor is not None and not access.can_in_area(actor, Cap.IDENTITY_VERIFY, commune):
        raise PermissionDenied(_("Your role does not allow verifying identities in this commune."))
    adapter = get_adapter(adapter_name)
    Area.objects.select_for_update().filter(pk=commune.pk).first()  # one run at a time per commune
    today = timezone.localdate()
    last = VerificationRun.objects.filter(commune=commune, run_date=today).aggregate(m=Max("sequence"))["m"]
    run = VerificationRun.objects.create(
        commune=commune,
        area_path=commune.path,
        run_date=today,
        sequence=(last or 0) + 1,
        source=adapter.source,
        started_by=actor,
    )
    in_commune = {"area_path__startswith": commune.path}
    people = (
        ("beneficiary", Beneficiary.objects.filter(status__in=_CHECKED_STATUSES, **in_commune)),
        ("representative", Representative.objects.filter(**in_commune)),
    )
    counts = dict.fromkeys(Outcome.values, 0)
    for kind, qs in people:
        run.without_cccd += qs.filter(cccd="").count()
        for rows in _chunks(qs.exclude(cccd="").exclude(birth_date__isnull=True), _FIELDS):
            by_ref = {str(r["pk"]): r for r in rows}
            queries = [
                PersonQuery(
                    ref=ref, cccd=r["cccd"], full_name=r["full_name"], birth_date=r["birth_date"], gender=r["gender"]
                )
                for ref, r in by_ref.items()
            ]
            now = timezone.now()
            results = []
            for answer in adapter.verify(queries):
                r = by_ref[answer.ref]
                counts[answer.outcome] += 1
                results.append(
                    VerificationResult(
                        run=run,
                        beneficiary_id=r["pk"] if kind == "beneficiary" else None,
                        representative_id=r["pk"] if kind == "representative" else None,
                        area_path=r["area_path"],
                        full_name=r["full_name"],
                        cccd=r["cccd"],
                        outcome=answer.outcome,
                        mismatched_fields=answer.mismatched_fields,
                        death_date=answer.death_date,
                        stop_proposed=kind == "beneficiary" and answer.outcome == Outcome.DECEASED,
                        source=adapter.source,
                        checked_at=now,
                    )
                )
            VerificationResult.objects.bulk_create(results, batch_size=CHUNK)
    run.matched = counts[Outcome.MATCH]
    run.mismatched = counts[Outcome.MISMATCH]
    run.not_found = counts[Outcome.NOT_FOUND]
    run.deceased = counts[Outcome.DECEASED]
    run.checked = sum(counts.values())
    run.finished_at = timezone.now()
    run.save()
    record(actor=actor, action="identity.verified", obj=run, area=commune, after=run.summary())
    return run


# --- the synthetic population register (sandbox) -------------------------------------------------

DEMO_SEED = "ansinh-demo"


def _bucket(seed: str, cccd: str, salt: str = "") -> int:
    return int(hashlib.sha256(f"{seed}:{salt}:{cccd}".encode()).hexdigest()[:8], 16)


def _misspelt(full_name: str) -> str:
    words = full_name.split()
    plain = strip_accents(words[-1])
    words[-1] = plain if plain != words[-1] else words[-1] + "h"
    return " ".join(words)


def _year_off(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def synthetic_resident(row: dict, *, seed: str, can_die: bool) -> SyntheticResident | None:
    """The register's record of a person, with deliberate discrepancies chosen by a hash of the
    seed and the CCCD (the same every time): about 3% unknown, 3% a wrong birth year, 3% a
    differently spelt name and, for beneficiaries, 2% deceased."""
    h = _bucket(seed, row["cccd"]) % 100
    if h < 3:
        return None
    resident = SyntheticResident(
        cccd=row["cccd"], full_name=row["full_name"], birth_date=row["birth_date"], gender=row["gender"]
    )
    if h < 6:
        resident.birth_date = _year_off(row["birth_date"])
    elif h < 9:
        resident.full_name = _misspelt(row["full_name"])
    elif h < 11 and can_die:
        resident.death_date = date(2025, 1, 1) + timedelta(days=_bucket(seed, row["cccd"], "death") % 540)
    return resident


@transaction.atomic
def build_synthetic_register(*, seed: str = DEMO_SEED) -> int:
    """Fill the synthetic register from the registry's people with a CCCD (idempotent: a CCCD
    already in the register is left as it is). Returns the number of residents added."""
    before = SyntheticResident.objects.count()  # counted once: a count per chunk reads the table each time
    people = (
        (True, Beneficiary.objects.all()),
        (False, Representative.objects.filter(gender__in=("male", "female"))),
    )
    for can_die, qs in people:
        for rows in _chunks(qs.exclude(cccd="").exclude(birth_date__isnull=True), _FIELDS):
            residents = [r for row in rows if (r := synthetic_resident(row, seed=seed, can_die=can_die))]
            SyntheticResident.objects.bulk_create(residents, batch_size=CHUNK, ignore_conflicts=True)
    return SyntheticResident.objects.count() - before
