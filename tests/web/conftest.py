import pytest


@pytest.fixture
def units(tree):
    """An approving office seated in the district (responsible for both communes) and a commune
    committee in each commune, set up through the services."""
    from ansinh.accounts.models import Function, OrgKind
    from ansinh.accounts.services import assign_responsibility, create_org_unit

    office = create_org_unit(
        actor=None, kind=OrgKind.APPROVING_OFFICE, name="Phòng LĐTBXH Châu Đốc", area=tree.district
    )
    committee_a = create_org_unit(
        actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND phường Châu Phú A", area=tree.a
    )
    committee_b = create_org_unit(actor=None, kind=OrgKind.COMMUNE_COMMITTEE, name="UBND phường Vĩnh Mỹ", area=tree.b)
    assign_responsibility(actor=None, org_unit=office, area=tree.district, function=Function.APPROVE)
    return type("Units", (), {"office": office, "a": committee_a, "b": committee_b})
