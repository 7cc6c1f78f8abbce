"""Reads of identity verification, scoped to the user's areas: commune police (identity.verify)
and the commune officer (registry.decide, who acts on mismatches and stop proposals)."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.registry.models import Beneficiary, Status

from .models import Outcome, VerificationResult, VerificationRun

READ_CAPS = (Cap.IDENTITY_VERIFY, Cap.REGISTRY_DECIDE)


def may_read(user) -> bool:
    return any(access.has_cap(user, cap) for cap in READ_CAPS)


def _scoped(qs: QuerySet, user) -> QuerySet:
    qs_ = [access.area_q(user, cap, "area_path") for cap in READ_CAPS]
    if any(q is None for q in qs_):
        return qs
    return qs.filter(reduce(or_, [q for q in qs_ if q is not None], Q(pk__in=[])))


def runs_for(user) -> QuerySet[VerificationRun]:
    return _scoped(VerificationRun.objects.select_related("commune", "started_by"), user)


def results_for(user) -> QuerySet[VerificationResult]:
    return _scoped(VerificationResult.objects.all(), user)


def stop_proposal(beneficiary: Beneficiary) -> VerificationResult | None:
    """The latest deceased result of a beneficiary not yet stopped: a stop for an officer to
    confirm. Gone once a stop decision is recorded (the beneficiary is stopped)."""
    if beneficiary.status == Status.STOPPED:
        return None
    return (
        VerificationResult.objects.filter(beneficiary=beneficiary, stop_proposed=True)
        .order_by("-checked_at", "-id")
        .first()
    )


def latest_result(beneficiary: Beneficiary) -> VerificationResult | None:
    return VerificationResult.objects.filter(beneficiary=beneficiary).order_by("-checked_at", "-id").first()


OUTCOMES_TO_ACT_ON = (Outcome.MISMATCH, Outcome.NOT_FOUND, Outcome.DECEASED)
