"""The payment section of the beneficiary detail page: how and to whom the money goes this
month, the histories, and the receiving accounts (numbers masked unless the user holds
payments.view_account on the beneficiary's area)."""

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.payments import queries, services
from ansinh.payments.names import is_strong
from ansinh.registry.models import Beneficiary


def payment_section(user, b: Beneficiary) -> dict:
    """What the detail page shows: method and payee of this month and from the next one, their
    histories, the accounts."""
    this_month = services.first_open_month()
    full = queries.number_visible(user, b)
    accounts = list(queries.accounts_of(b))
    change = queries.awaiting_change_of(b)
    if change is not None:
        change.account.shown_number = queries.shown_number(change.account, full)
    for account in accounts:
        account.shown_number = queries.shown_number(account, full)
        account.weak_name = not is_strong(account.name_score) and account.name_confirmed_at is None
    return {
        "method": queries.method_on([b.pk], this_month).get(b.pk),
        "payee": queries.payee_on([b.pk], this_month)[b.pk],
        "methods": list(queries.method_history(b)),
        "payees": list(queries.payee_history(b)),
        "accounts": accounts,
        "can_edit": access.can_in_area(user, Cap.REGISTRY_EDIT, b.audit_area),
        "change": change,
        "can_withdraw": change is not None and change.requested_by_id == user.pk,
        "can_approve": change is not None and access.can_in_area(user, Cap.PAYMENTS_APPROVE_ACCOUNT, b.audit_area),
    }
