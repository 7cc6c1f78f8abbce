"""On a 390 × 844 phone: a village head finds a person of the village without typing the
diacritics, chooses the guardian to open the account, confirms the phone and asks to be paid to
the account; the commune then sees the request waiting for its confirmation."""

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from ansinh.accounts.roles import Role
from ansinh.openings.models import OpeningRequest, RequestStatus
from ansinh.registry import services
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from tests.conftest import make_user
from tests.factories import cccd_for

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def village_person(tree, officer_a, policy):
    # browser tests run on a flushed database: the bank list a migration loads may be gone
    call_command("load_institutions", stdout=StringIO())
    birth = date(1938, 4, 2)
    rep_birth = date(1970, 6, 7)
    data = BeneficiaryInput(
        full_name="Nguyễn Thị Ánh",
        birth_date=birth,
        gender="female",
        commune_id=tree.a.pk,
        village_id=tree.village_a.pk,
        cccd=cccd_for(birth, "female", "445566"),
        phone="0912345678",
        categories=[CategoryInput(code="D20.5.5.c")],
        decision_number="15/QĐ-UBND",
        decision_date=date(2024, 3, 12),
        representatives=[
            RepresentationInput(
                person=PersonInput(
                    full_name="Trần Văn Bình",
                    birth_date=rep_birth,
                    gender="male",
                    cccd=cccd_for(rep_birth, "male", "778899"),
                    phone="0987654321",
                ),
                kind="guardian",
                relationship="con",
            )
        ],
    )
    return services.create_beneficiary(actor=officer_a, data=data)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_village_head_requests_an_account_on_a_phone(
    phone_page, login, live_server, tree, village_person, officer_a, client
):
    head = make_user("head_a", Role.VILLAGE_HEAD, tree.village_a)
    page = login(phone_page, head)
    page.locator('nav.app-nav a[data-nav="openings"]').click()
    page.wait_for_url(f"**{reverse('openings:start')}")
    page.fill("#id_q", "nguyen thi anh")
    person = page.locator(f'[data-person="{village_person.pk}"]')
    person.wait_for()
    assert _fits(page)
    person.click()
    page.wait_for_url(f"**{reverse('openings:request_form', args=[village_person.pk])}")
    link = village_person.representations.get()
    page.check(f"#who_{link.pk}")
    # the phone is shown masked to the village head; sending without the confirmation is refused
    page.click("#opening-form button[type=submit]")
    page.locator("[data-errors]").wait_for()
    assert not OpeningRequest.objects.exists()
    page.console_errors.clear()  # the refusal is answered 422, which the console reports
    page.check(f"#who_{link.pk}")
    page.check("#id_phone_confirmed")
    assert page.is_checked("#id_switch_method")
    assert _fits(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "opening-form-phone.png"), full_page=True)
    page.click("#opening-form button[type=submit]")
    page.wait_for_url(f"**{reverse('openings:start')}")
    assert page.locator(".app-messages .alert-success").is_visible()
    assert page.locator('[data-list="my-requests"]').inner_text().count("Nguyễn Thị Ánh") == 1
    req = OpeningRequest.objects.get()
    assert req.representation == link and req.switch_method and req.status == RequestStatus.REQUESTED
    assert req.requested_by == head
    assert _fits(page)
    assert not page.console_errors

    client.force_login(officer_a, backend="django.contrib.auth.backends.ModelBackend")
    assert req.code in client.get(reverse("openings:requests")).content.decode()
