from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayrollConfig(AppConfig):
    name = "ansinh.payroll"
    verbose_name = _("Payroll")

    def ready(self) -> None:
        # modules that register the checks of their transitions (services.register_check)
        from . import approval  # noqa: F401
