"""The worklist in a real browser: commune police verify the commune, the population register
spells a name differently, the mismatch appears on the commune officer's worklist, the officer
follows the link to the edit form, corrects the name, and the line is gone when they come back
and update the list (opening the page writes nothing: the button or the nightly refresh does)."""

from datetime import date

import pytest

from ansinh.accounts.roles import Role
from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput
from ansinh.verification.models import SyntheticResident
from ansinh.verification.services import run_verification
from tests.conftest import make_user
from tests.factories import cccd_for

pytestmark = pytest.mark.browser


@pytest.fixture
def misspelt(tree, officer_a):
    from django.conf import settings

    from ansinh.policy.services import load_policy

    load_policy(actor=None, path=settings.ANSINH_POLICY_FILE)
    birth = date(1948, 5, 6)
    b = services.create_beneficiary(
        actor=officer_a,
        data=BeneficiaryInput(
            full_name="Trần Thị Lech",
            birth_date=birth,
            gender="female",
            commune_id=tree.a.pk,
            village_id=tree.village_a.pk,
            cccd=cccd_for(birth, "female", "810002"),
            phone="0912345678",
            categories=[CategoryInput(code="D20.5.6")],
            decision_number="15/QĐ-UBND",
            decision_date=date(2025, 1, 10),
        ),
    )
    # the population register spells the name with its diacritics
    SyntheticResident.objects.create(cccd=b.cccd, full_name="Trần Thị Lệch", birth_date=birth, gender="female")
    police = make_user("police_a", Role.COMMUNE_POLICE, tree.a)
    run = run_verification(actor=police, commune=tree.a, adapter_name="sandbox")
    assert run.mismatched == 1
    return b


def test_officer_fixes_a_mismatch_from_the_worklist(page, login, live_server, officer_a, misspelt):
    login(page, officer_a)
    page.goto(f"{live_server.url}/worklists/")
    page.get_by_role("button", name="Cập nhật danh sách ngay").click()  # opening the page writes nothing
    page.wait_for_load_state()
    row = page.locator(f'tr[data-kind="identity_mismatch"][data-beneficiary="{misspelt.pk}"]')
    assert row.is_visible()
    assert "Trần Thị Lech" in row.inner_text()
    row.locator('[data-action="fix"]').click()
    page.wait_for_url(f"**/beneficiaries/{misspelt.pk}/edit/")
    page.fill("#id_full_name", "Trần Thị Lệch")
    page.locator('#beneficiary-form button[type="submit"]').click()
    page.wait_for_url(f"**/beneficiaries/{misspelt.pk}/")

    page.goto(f"{live_server.url}/worklists/")
    page.get_by_role("button", name="Cập nhật danh sách ngay").click()
    page.wait_for_load_state()
    assert page.locator('[data-section="worklist-updated"] [data-state="refreshed"]').is_visible()
    assert page.locator(f'tr[data-kind="identity_mismatch"][data-beneficiary="{misspelt.pk}"]').count() == 0
    # the corrected identity waits for the next verification run
    assert page.locator(f'tr[data-kind="unverified"][data-beneficiary="{misspelt.pk}"]').is_visible()
    assert not page.console_errors
