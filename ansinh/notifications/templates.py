"""The notification texts: one registry, key → text with named placeholders (an English msgid,
Vietnamese in the catalog), and the variables each text takes. No text carries the sender's
name: an SMS is prefixed with the configured brand when it is rendered
(`settings.ANSINH_SMS_BRANDNAME`: "ANSINH: …").

No text names a category, a programme, a condition or a health matter, and none takes one as a
variable: a notice tells a person that something happened to their allowance or account, never
why they are paid. `render` refuses a variable a text does not take, and a value that looks like a
category (a category's code or name, or words about HIV) as a second line of defence."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Template:
    text: Promise
    variables: frozenset[str]


TEMPLATES: dict[str, Template] = {
    # a receiving account was changed (issue 9, point 2): to the beneficiary and the previous payee
    "account.changed": Template(
        _(
            "The account receiving the allowance of %(name)s was changed to %(institution)s "
            "%(account)s from %(month)s. If you did not ask for this, call %(hotline)s."
        ),
        frozenset({"name", "institution", "account", "month", "hotline"}),
    ),
    # the provider opened an account (issue 9, point 3)
    "account.opened": Template(
        _("%(institution)s opened account %(account)s for %(name)s. Questions: %(hotline)s."),
        frozenset({"name", "institution", "account", "hotline"}),
    ),
    # the allowance of a month is ready (payroll issue): amount in đồng, already formatted
    "payment.ready": Template(
        _("The allowance of %(name)s for %(month)s, %(amount)s VND, is ready at %(place)s."),
        frozenset({"name", "month", "amount", "place"}),
    ),
    # the transfer leg of the cycle (ansinh.disbursement.notices), to the payee: the money was
    # credited (`how`: where and how to withdraw it, settings.ANSINH_SMS_WITHDRAW_HINT) …
    "payment.credited": Template(
        _(
            "The allowance of %(name)s for %(month)s, %(amount)s VND, was credited to the account "
            "%(institution)s %(account)s. %(how)s."
        ),
        frozenset({"name", "month", "amount", "institution", "account", "how"}),
    ),
    # … the transfer failed (the commune contacts the person) …
    "payment.failed": Template(
        _(
            "The allowance of %(name)s for %(month)s, %(amount)s VND, could not be transferred to the "
            "account. The commune will contact you. Questions: %(hotline)s."
        ),
        frozenset({"name", "month", "amount", "hotline"}),
    ),
    # … or the allowance is paid in cash on a date at a place (the cash leg)
    "payment.cash_schedule": Template(
        _(
            "The allowance of %(name)s for %(month)s, %(amount)s VND, is paid in cash on %(date)s at "
            "%(place)s. Please bring your citizen ID card."
        ),
        frozenset({"name", "month", "amount", "date", "place"}),
    ),
    # a cash list closed with a person not paid because they died or moved (ansinh.cashout.closing),
    # to the commune officers: record it in the registry so that the stop rules apply
    "cashout.record_stop": Template(
        _(
            "%(name)s was not paid in cash for %(month)s at %(place)s: %(what)s. Record it in the "
            "registry so that the allowance stops."
        ),
        frozenset({"name", "month", "place", "what"}),
    ),
    # payment-cycle deadlines, to the officers who answer for them (ansinh.payroll.reminders)
    "payroll.deadline_soon": Template(
        _("%(task)s of %(place)s for %(month)s is due on %(date)s."),
        frozenset({"task", "place", "month", "date"}),
    ),
    "payroll.deadline_missed": Template(
        _("%(task)s of %(place)s for %(month)s was due on %(date)s and is not done yet."),
        frozenset({"task", "place", "month", "date"}),
    ),
    # a complaint was answered (ansinh.complaints.services), to the phone the person gave: the
    # reference and the outcome only, the answer itself is on the status page
    "complaint.closed": Template(
        _(
            "Your request %(reference)s was answered: %(outcome)s. See the answer on the lookup page "
            "or call %(hotline)s."
        ),
        frozenset({"reference", "outcome", "hotline"}),
    ),
    # the one-time code of the public status lookup (ansinh.lookup.services.send_code)
    "lookup.code": Template(
        _("Your code to see the allowance status is %(code)s, valid for %(minutes)s minutes. Never give it to anyone."),
        frozenset({"code", "minutes"}),
    ),
}


def template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise ValueError(f"unknown notification template {key!r}") from None
