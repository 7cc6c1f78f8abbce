from datetime import date
from typing import TYPE_CHECKING, Literal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level

from .common import Id, responses

router = Router(tags=["areas"])


class AreaOut(Schema):
    id: int
    code: str
    name: str
    division_type: str
    level: str
    tree: str
    parent_id: int | None
    valid_from: date | None
    valid_to: date | None


class MeOut(Schema):
    username: str
    full_name: str
    roles: list[str]
    capabilities: list[str]


if TYPE_CHECKING:  # an enum built from the model's choices at run time: a plain string to mypy
    LevelValue = str
else:
    LevelValue = Literal[tuple(Level.values)]


@router.get("/me", response=responses({200: MeOut}, params=False))
def me(request):
    user = request.auth
    return {
        "username": user.username,
        "full_name": user.full_name,
        "roles": sorted(access.roles_of(user)),
        "capabilities": sorted(access.capabilities(user)),
    }


@router.get("/areas", response=responses({200: list[AreaOut]}))
def list_areas(request, parent: Id | None = None, level: LevelValue | None = None):
    qs = access.areas_for(request.auth)
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    elif level is None:
        top = access.top_areas(request.auth)
        qs = qs.filter(pk__in=[a.pk for a in top])
    if level:
        qs = qs.filter(level=level)
    return list(qs.order_by("path")[:1000])


@router.get("/areas/{area_id}", response=responses({200: AreaOut}, not_found=True))
def get_area(request, area_id: Id):
    return get_object_or_404(access.areas_for(request.auth, Cap.AREAS_VIEW), pk=area_id)
