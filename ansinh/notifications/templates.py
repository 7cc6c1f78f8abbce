"""The notification texts: one registry, key → text with named placeholders (an English msgid,
Vietnamese in the catalog), and the variables each text takes.

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
            "ANSINH: the account receiving the allowance of %(name)s was changed to %(institution)s "
            "%(account)s from %(month)s. If you did not ask for this, call %(hotline)s."
        ),
        frozenset({"name", "institution", "account", "month", "hotline"}),
    ),
    # the provider opened an account (issue 9, point 3)
    "account.opened": Template(
        _("ANSINH: %(institution)s opened account %(account)s for %(name)s. Questions: %(hotline)s."),
        frozenset({"name", "institution", "account", "hotline"}),
    ),
    # the allowance of a month is ready (payroll issue): amount in đồng, already formatted
    "payment.ready": Template(
        _("ANSINH: the allowance of %(name)s for %(month)s, %(amount)s VND, is ready at %(place)s."),
        frozenset({"name", "month", "amount", "place"}),
    ),
    # payment-cycle deadlines, to the officers who answer for them (ansinh.payroll.reminders)
    "payroll.deadline_soon": Template(
        _("ANSINH: %(task)s of %(place)s for %(month)s is due on %(date)s."),
        frozenset({"task", "place", "month", "date"}),
    ),
    "payroll.deadline_missed": Template(
        _("ANSINH: %(task)s of %(place)s for %(month)s was due on %(date)s and is not done yet."),
        frozenset({"task", "place", "month", "date"}),
    ),
}


def template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise ValueError(f"unknown notification template {key!r}") from None
