"""The funeral support recorded with a death, on the beneficiary's page (issue 10 part 3)."""

from __future__ import annotations

from django import template

from ansinh.core.masking import mask_number
from ansinh.payroll.models import FuneralSupport

register = template.Library()


@register.inclusion_tag("payroll/_funeral.html")
def funeral_section(beneficiary):
    support = FuneralSupport.objects.filter(beneficiary=beneficiary).first() if beneficiary.death_date else None
    return {"support": support, "organiser_cccd": mask_number(support.organiser_cccd) if support else ""}
