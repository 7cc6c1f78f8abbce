"""A complaint from lodged to resolved: a person sends it from the public form on a phone-sized
screen, the commune officer takes it and answers it, and the public status page then shows it
resolved with the answer."""

import pytest
from django.urls import reverse

from ansinh.complaints.models import Complaint, State

pytestmark = pytest.mark.browser


def test_a_complaint_goes_from_lodged_to_resolved(browser, phone_page, page, login, live_server, tree, officer_a):
    # on the phone: the public form, no sign-in
    phone = phone_page
    phone.goto(f"{live_server.url}{reverse('public:complaint_new')}")
    phone.check("input[name=kind][value=feedback]")
    phone.select_option("#id_topic", "not_paid")
    phone.select_option("#id_commune", str(tree.a.pk))
    phone.fill("#id_name", "Trần Thị Gửi")
    phone.fill("#id_phone", "0912 000 222")
    phone.fill("#id_text", "Tháng này mẹ tôi chưa nhận được tiền trợ cấp tại điểm chi trả.")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.click("form[data-form=complaint-new] button[type=submit]")
    reference = phone.locator("[data-detail=reference]").inner_text().strip()
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.state == State.LODGED and complaint.commune == tree.a

    # the commune officer finds it in the register, takes it and answers it
    login(page, officer_a)
    page.goto(f"{live_server.url}{reverse('complaints:register')}")
    page.click(f"tr[data-complaint='{reference}'] a")
    page.select_option("#id_assignee", str(officer_a.pk))
    page.click("form[data-form=complaint-assign] button[type=submit]")
    assert page.locator("[data-detail=state]").inner_text().strip() == str(State.IN_PROGRESS.label)
    page.fill("#id_resolution", "Đã chi bổ sung tại điểm chi trả ngày 10.")
    page.click("[data-action=resolve]")
    page.locator("[data-detail=resolution]").wait_for()
    complaint.refresh_from_db()
    assert complaint.state == State.RESOLVED

    # back on the phone: the status page shows it resolved, with the answer
    phone.click(f"a.btn[href='{reverse('public:complaint_status')}']")
    phone.fill("#id_reference", reference)
    phone.fill("#id_last4", "0222")
    phone.click("form[data-form=complaint-status] button[type=submit]")
    assert phone.locator("[data-detail=state]").inner_text().strip() == str(State.RESOLVED.label)
    assert "Đã chi bổ sung" in phone.locator("[data-detail=resolution]").inner_text()
    assert not phone.console_errors and not page.console_errors
