"""The field recording page in a real browser (issue 12, "Browser tests"): the provider's staff
record a home payment to an authorised person on a phone; receipts recorded with the network cut
are queued on the device (the app's own IndexedDB outbox) and sent once when it returns (one
receipt and one payout per line on the server). Playwright's offline mode does not stop a service
worker's own requests: the page sends its outbox itself, and the cut is made with
`context.set_offline(True)` plus `page.route` aborting the POSTs."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from ansinh.cashout.models import CashEntryLine, CashReceipt, EntryState
from ansinh.disbursement.models import Payout
from tests.cashout.conftest import (  # noqa: F401 (fixtures)
    HOME_PEOPLE,
    PAY_POINT_PEOPLE,
    _no_throttle_wait,
    approved,
    cash_cycle,
    cash_lists,
    cash_places,
    contract,
    extra_people,
    funded,
    people,
    village_b,
)
from tests.cashout.receipt_fixtures import add_representative, entry_of, give_cccd, lists_fixture, places_fixture  # noqa: F401
from tests.payroll.conftest import approver_a, preparer_a, provider_a, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

STORED = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("ansinh-cash-field", 1);
  open.onsuccess = () => {
    const req = open.result.transaction("entries").objectStore("entries").getAll();
    req.onsuccess = () => { resolve(req.result); open.result.close(); };
    req.onerror = () => reject(req.error);
  };
  open.onerror = () => reject(open.error);
})"""
OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("ansinh-cash-field", 1);
  open.onsuccess = () => {
    const req = open.result.transaction("outbox").objectStore("outbox").getAll();
    req.onsuccess = () => {
      resolve(req.result.map(i => ({entry: i.entry_id, status: i.status, key: i.key})));
      open.result.close();
    };
    req.onerror = () => reject(req.error);
  };
  open.onerror = () => reject(open.error);
})"""


def _open_field(page, live_server, cash_list):
    page.goto(f"{live_server.url}/cash/field/{cash_list.pk}/")
    page.wait_for_selector("#cash-field[data-ready='1']")


def _card(page, entry):
    return page.locator(f".cash-entry[data-entry='{entry.pk}']")


def test_home_payment_to_an_authorised_person(phone_page, login, live_server, lists, provider_a):  # noqa: F811
    page = phone_page
    entry = entry_of(lists["home"], HOME_PEOPLE[0])
    give_cccd(entry.beneficiary, "400004")
    link = add_representative(entry.beneficiary, name="Trần Văn Được Ủy Quyền", tail="555555")
    login(page, provider_a)
    _open_field(page, live_server, lists["home"])
    # what the phone keeps: names, amounts, village, payee, masked CCCDs; never a full CCCD
    stored = page.evaluate(STORED)
    kept = next(e for e in stored if e["id"] == entry.pk)
    assert set(kept) <= {
        "id",
        "list_id",
        "position",
        "name",
        "amount",
        "village",
        "payee",
        "cccd",
        "representatives",
        "state",
    }
    assert kept["representatives"][0]["name"] == "Trần Văn Được Ủy Quyền"
    assert kept["cccd"].endswith(entry.beneficiary.cccd[-4:])
    assert entry.beneficiary.cccd not in json.dumps(stored) and link.representative.cccd not in json.dumps(stored)
    card = _card(page, entry)
    card.locator(".js-paid").click()
    card.locator("select[name=receiver]").select_option(f"rep:{link.pk}")
    card.locator("input[name=cccd]").fill("1234")  # not the representative's: refused on the phone
    card.locator("button[type=submit]").click()
    assert "không khớp" in card.inner_text().lower() or "khớp" in card.inner_text()
    card.locator("input[name=cccd]").fill(link.representative.cccd[-4:])
    card.locator("button[type=submit]").click()
    page.wait_for_selector(f".cash-entry[data-entry='{entry.pk}'] .entry-status[data-status='sent']")
    receipt = CashReceipt.objects.get(entry=entry)
    assert receipt.representation == link and receipt.cccd_checked and receipt.receiver_name == "Trần Văn Được Ủy Quyền"
    entry.refresh_from_db()
    assert entry.state == EntryState.PAID
    assert (
        Payout.objects.filter(line__cash_entry_lines__entry=entry).count()
        == CashEntryLine.objects.filter(entry=entry).count()
    )
    assert page.evaluate(OUTBOX) == []  # everything answered: nothing left on the device
    assert not page.console_errors


def test_offline_receipts_are_queued_and_sent_once(phone_page, login, live_server, lists, provider_a):  # noqa: F811
    page = phone_page
    point = lists["pay_point"]
    first, second = entry_of(point, PAY_POINT_PEOPLE[0]), entry_of(point, PAY_POINT_PEOPLE[1])
    login(page, provider_a)
    _open_field(page, live_server, point)
    # the service worker keeps the page shell and its assets for a start without a connection
    cached = page.evaluate(
        """async () => {
          for (let i = 0; i < 100; i++) {
            const page = await caches.match(location.href);
            const script = await caches.match(document.querySelector('script[src*="cash-field.js"]').src);
            if (page && script) return true;
            await new Promise((r) => setTimeout(r, 100));
          }
          return false;
        }"""
    )
    assert cached
    # the network is cut
    page.context.set_offline(True)
    page.route("**/cash/field/entries/**", lambda route: route.abort("internetdisconnected"))
    for entry, note in ((first, "Giấy xác nhận của công an"), (second, "")):
        card = _card(page, entry)
        if note:
            card.locator(".js-paid").click()
            card.locator("input[name=note]").fill(note)  # no CCCD on record: the note says what was checked
        else:
            card.locator(".js-not-paid").click()
            card.locator("select[name=reason]").select_option("absent")
        card.locator("button[type=submit]").click()
        page.wait_for_selector(f".cash-entry[data-entry='{entry.pk}'] .entry-status[data-status='queued']")
    page.click("#cash-field-send")  # still cut: nothing leaves
    expect(page.locator("#cash-field-queued")).to_have_text("2")
    queued = page.evaluate(OUTBOX)
    assert sorted((i["entry"], i["status"]) for i in queued) == sorted([(first.pk, "queued"), (second.pk, "queued")])
    assert not CashReceipt.objects.exists()
    # the network returns: the page sends its outbox (the "online" event; the button as well)
    page.unroute("**/cash/field/entries/**")
    page.context.set_offline(False)
    page.click("#cash-field-send")
    expect(page.locator("#cash-field-queued")).to_have_text("0")
    for entry in (first, second):
        page.wait_for_selector(f".cash-entry[data-entry='{entry.pk}'] .entry-status[data-status='sent']")
    page.click("#cash-field-send")  # again: nothing more
    assert page.evaluate(OUTBOX) == []
    # sent once: one receipt each with the device's key, one payout per line of the paid entry
    assert CashReceipt.objects.count() == 2
    assert {r.idempotency_key for r in CashReceipt.objects.all()} == {i["key"] for i in queued}
    assert Payout.objects.count() == CashEntryLine.objects.filter(entry=first).count()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (EntryState.PAID, EntryState.NOT_PAID)
    # a repeat of the same key (a device that did not hear the answer) records nothing more
    again = page.evaluate(
        """([url, key]) => fetch(url, {method: "POST", credentials: "same-origin",
             headers: {"Content-Type": "application/json", "Idempotency-Key": key,
                       "X-CSRFToken": document.querySelector('meta[name=csrf-token]').content},
             body: JSON.stringify({outcome: "not_paid", reason: "absent"})}).then(r => r.status)""",
        [f"/cash/field/entries/{second.pk}/receipt", next(i["key"] for i in queued if i["entry"] == second.pk)],
    )
    assert again == 201 and CashReceipt.objects.count() == 2
