from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CashoutConfig(AppConfig):
    name = "ansinh.cashout"
    verbose_name = _("Cash pay-out")
