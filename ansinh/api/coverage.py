"""Account coverage and the registration lists of the Hoằng Phong plan over HTTP, scoped to the
token user's areas (another area asked for answers an empty result, as a search does). Rows are
masked as on screen: CCCD, phones and account numbers in full only where the user holds the
capability; HIV-related categories only for holders of registry.view_sensitive."""

from __future__ import annotations

from datetime import date

from ninja import Field, Query, Router, Schema

from ansinh.payments import coverage as coverage_service
from ansinh.payments import registration_lists as rl
from ansinh.registry.queries import count_upto

from .common import Id, responses

router = Router(tags=["coverage"])

COUNT_CAP = 10_000


class FiguresOut(Schema):
    active: int = Field(..., description="Beneficiaries receiving an allowance.")
    with_account: int = Field(..., description="… holding an active receiving account.")
    without_account: int
    account_share: float | None = Field(..., description="Percent with an account (None: nobody receiving).")
    meets_target: bool | None
    paid_by_account: int = Field(..., description="Account holders whose payment method this month is a transfer.")
    paid_share: float | None = Field(..., description="Percent of account holders paid through the account.")
    registering_ncc: int
    registering_btxh: int


class UnitOut(Schema):
    key: str = Field(..., description="`area:<id>` for a commune or province, `org:<id>` for an office.")
    name: str
    parent_name: str
    area_id: int | None
    figures: FiguresOut


class CoverageOut(Schema):
    month: date
    target: float = Field(..., description="The target share of beneficiaries with an account, in percent.")
    total: FiguresOut
    communes: list[UnitOut]
    offices: list[UnitOut]
    provinces: list[UnitOut]


class CoverageFilters(Schema):
    area: Id | None = Field(None, description="A commune, village, district or province of the user's areas.")


@router.get("/coverage", response=responses({200: CoverageOut}), summary="Account coverage against the target")
def get_coverage(request, filters: Query[CoverageFilters]):
    report = coverage_service.coverage(request.auth, filters.area)

    def unit(u: coverage_service.Unit) -> dict:
        figures = coverage_service.figures_dict(u.figures, report.target)
        return {"key": u.key, "name": u.name, "parent_name": u.parent_name, "area_id": u.area_id, "figures": figures}

    return {
        "month": report.month,
        "target": float(report.target),
        "total": coverage_service.figures_dict(report.total, report.target),
        "communes": [unit(u) for u in report.communes],
        "offices": [unit(u) for u in report.offices],
        "provinces": [unit(u) for u in report.provinces],
    }


class ListFilters(Schema):
    area: Id | None = Field(None, description="A commune or village (or a larger area) of the user's areas.")
    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(50, ge=1, le=200)


class RowOut(Schema):
    beneficiary_id: int
    full_name: str = Field(..., description="The beneficiary, or on a guardians' list the representative.")
    birth_year: int | None
    cccd: str = Field(..., description="Masked unless the user may see CCCDs there.")
    phone: str = Field(..., description="Masked unless the user may see contact data there.")
    address: str
    commune: str
    village: str
    categories: list[str]
    institution: str
    account_number: str = Field(..., description="Masked (•••• 1234) unless the user may see account numbers.")
    account_status: str
    method: str = Field(..., description="The payment method in effect this month ('' when none chosen).")
    account_from: date | None = Field(..., description="The month a planned change to account payment starts.")
    opening: str = Field(..., description="The status of an account-opening request, if any.")
    note: str
    payee: str | None = None
    account_holder: str | None = None
    representation_id: int | None = None
    kind: str | None = None
    relationship: str | None = None
    beneficiary_name: str | None = None
    beneficiary_birth_year: int | None = None


class ListOut(Schema):
    kind: str = Field(..., description="The list: ncc, ncc-representatives, btxh, btxh-representatives.")
    title: str
    count: int = Field(..., description=f"Rows, counted up to {COUNT_CAP + 1} (more than {COUNT_CAP}).")
    page: int
    page_size: int
    items: list[RowOut]


def _list_operation(kind: rl.ListKind):
    def operation(request, filters: Query[ListFilters]):
        records = rl.ordered(rl.scoped(request.auth, kind, filters.area))
        start = (filters.page - 1) * filters.page_size
        chunk = records[start : start + filters.page_size]
        rows = rl.rows_for(request.auth, kind, chunk, taken_away=False, with_commune=True)
        return {
            "kind": kind.slug,
            "title": kind.title,
            "count": count_upto(records, COUNT_CAP),
            "page": filters.page,
            "page_size": filters.page_size,
            "items": [rl.row_dict(r, kind) for r in rows],
        }

    operation.__name__ = "registration_list_" + kind.slug.replace("-", "_")
    operation.__doc__ = f"The plan's list “{kind.title}”, a page at a time, masked for the reader."
    return operation


for _kind in rl.KINDS.values():
    router.get(
        f"/registration-lists/{_kind.slug}",
        response=responses({200: ListOut}),
        operation_id="registration_list_" + _kind.slug.replace("-", "_"),
        summary=f"Registration list: {_kind.slug}",
    )(_list_operation(_kind))
