from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    name = "ansinh.reconciliation"
    verbose_name = _("Ledger, reconciliation and settlement")

    def ready(self) -> None:
        # the checks of the cycle's settlement edges (payroll.services.register_check)
        from . import office_settlement, settlement  # noqa: F401
