from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayrollConfig(AppConfig):
    name = "ansinh.payroll"
    verbose_name = _("Payroll")
