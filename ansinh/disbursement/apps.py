from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementConfig(AppConfig):
    name = "ansinh.disbursement"
    verbose_name = _("Disbursement")

    def ready(self) -> None:
        # registers the checks of the cycle's transfer edges (payroll.services.register_check)
        from . import checks  # noqa: F401
