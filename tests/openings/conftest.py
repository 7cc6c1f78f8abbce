from datetime import date

import pytest

from ansinh.accounts.roles import Role
from ansinh.core.exporter import TitleBlock, to_xlsx
from ansinh.openings.results_file import HEADERS
from ansinh.registry import services as registry_services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from tests.conftest import make_user
from tests.factories import cccd_for

RESULT_COLUMNS = ["code", "holder_name", "result", "number", "opened_on", "reason"]


@pytest.fixture
def head_a(tree):
    return make_user("head_a", Role.VILLAGE_HEAD, tree.village_a)


@pytest.fixture
def office_a(tree):
    """An office officer above the communes (manages openings, does not request)."""
    return make_user("office_a", Role.OFFICE_OFFICER, tree.district)


@pytest.fixture
def make_person(tree, policy, officer_a):
    counter = iter(range(100000, 999999))

    def make(name="Nguyễn Thị Ánh", *, phone="0912345678", cccd=True, commune=None, village="a", rep=None, birth=None):
        birth = birth or date(1940, 5, 17)
        commune = commune or tree.a
        data = BeneficiaryInput(
            full_name=name,
            birth_date=birth,
            gender="female",
            commune_id=commune.pk,
            village_id=tree.village_a.pk if (village == "a" and commune == tree.a) else None,
            cccd=cccd_for(birth, "female", str(next(counter))) if cccd else "",
            phone=phone,
            categories=[CategoryInput(code="D20.5.5.c")],
            decision_number="15/QĐ-UBND",
            decision_date=date(2024, 3, 12),
            representatives=[rep] if rep else [],
        )
        return registry_services.create_beneficiary(actor=officer_a, data=data)

    return make


@pytest.fixture
def guardian_input():
    birth = date(1972, 2, 3)
    return RepresentationInput(
        person=PersonInput(
            full_name="Trần Văn Bình",
            birth_date=birth,
            gender="male",
            cccd=cccd_for(birth, "male", "765432"),
            phone="0987654321",
        ),
        kind="guardian",
        relationship="con",
    )


def results_xlsx(rows: list[dict], *, title: bool = True) -> bytes:
    """A provider's results file: rows of {code, holder_name, result, number, opened_on, reason}."""
    heading = TitleBlock(unit="NGÂN HÀNG", title="KẾT QUẢ") if title else None
    return to_xlsx(
        title="Ket qua",
        headers=[HEADERS[c] for c in RESULT_COLUMNS],
        rows=[[r.get(c, "") for c in RESULT_COLUMNS] for r in rows],
        heading=heading,
    )


def results_csv(rows: list[dict]) -> bytes:
    lines = [",".join(HEADERS[c] for c in RESULT_COLUMNS)]
    lines += [",".join(str(r.get(c, "")) for c in RESULT_COLUMNS) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")
