"""Reads of account opening, scoped to the user's areas: requests where the user may request
(village heads: their village) or manage (the commune and the office), batches and result
imports where the user manages openings."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Area, Level

from .models import OpeningBatch, OpeningRequest, OpeningResultImport


def may_read(user) -> bool:
    return access.has_cap(user, Cap.OPENINGS_REQUEST) or access.has_cap(user, Cap.OPENINGS_MANAGE)


def requests_for(user) -> QuerySet[OpeningRequest]:
    """Requests in the areas where the user may request or manage account opening."""
    qs = OpeningRequest.objects.all()
    q_request = access.area_q(user, Cap.OPENINGS_REQUEST, path_field="area_path")
    q_manage = access.area_q(user, Cap.OPENINGS_MANAGE, path_field="area_path")
    if q_request is None or q_manage is None:
        return qs
    return qs.filter(q_request | q_manage)


def managed_requests(user) -> QuerySet[OpeningRequest]:
    return access.scope(OpeningRequest.objects.all(), user, Cap.OPENINGS_MANAGE, path_field="area_path")


def batches_for(user) -> QuerySet[OpeningBatch]:
    return access.scope(OpeningBatch.objects.all(), user, Cap.OPENINGS_MANAGE, path_field="area_path")


def imports_for(user) -> QuerySet[OpeningResultImport]:
    qs = OpeningResultImport.objects.exclude(area_path="")
    return access.scope(qs, user, Cap.OPENINGS_MANAGE, path_field="area_path")


def managed_communes(user) -> QuerySet[Area]:
    """The communes where the user manages account opening."""
    return access.areas_for(user, Cap.OPENINGS_MANAGE).filter(level=Level.COMMUNE).order_by("name_key", "id")


def status_filter(status: str) -> Q:
    return Q(status=status) if status else Q()
