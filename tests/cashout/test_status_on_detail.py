"""The commune sees each person's payment of the month on the beneficiary page (the pilot's
failure 6), from the same function as the public lookup."""

from ansinh.cashout.models import CashEntry
from ansinh.registry.models import Beneficiary
from tests.cashout.conftest import PAY_POINT_PEOPLE


def test_the_beneficiary_page_shows_the_months_cash_payment(cash_lists, client_for, officer_a):
    b = Beneficiary.objects.get(full_name=PAY_POINT_PEOPLE[0])
    entry = CashEntry.objects.get(beneficiary=b, funeral=False)
    page = client_for(officer_a).get(f"/beneficiaries/{b.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('data-section="month-status"') :]
    section = section[: section.index("</section>")]
    assert f"{entry.amount:,}".replace(",", ".") in section
    assert "Chi trả tiền mặt tại điểm chi trả" in section or "điểm chi trả" in section
    assert entry.cash_list.pay_point.name in section
