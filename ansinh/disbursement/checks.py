"""The checks of the cycle's transfer edges (payroll.services.register_check). The disbursement
services move the cycle themselves (the first file written: sent to the provider; the first
answer imported: paying); these checks hold for a manual step too."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ansinh.payroll.models import CycleState, PaymentCycle
from ansinh.payroll.services import register_check

from .models import BatchState, ProviderBatch, StatusImport

S = CycleState


@register_check(S.FUNDED, S.SENT_TO_PROVIDER)
def _batches_written(cycle: PaymentCycle) -> str | None:
    """Every batch of the cycle has its file written (a cycle paid all in cash has none)."""
    if ProviderBatch.objects.filter(cycle=cycle, state=BatchState.CREATED).exists():
        return _("Write the transfer file of every batch first (button “Export” or “Send to the bank”).")
    return None


@register_check(S.SENT_TO_PROVIDER, S.PAYING)
def _answers_arrived(cycle: PaymentCycle) -> str | None:
    """The provider answered (a status file imported) for a cycle with transfers."""
    if not ProviderBatch.objects.filter(cycle=cycle).exists():
        return None
    if not StatusImport.objects.filter(batch__cycle=cycle, state="applied").exists():
        return _("Import the provider's answer to the transfers first.")
    return None
