from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpeningsConfig(AppConfig):
    name = "ansinh.openings"
    verbose_name = _("Account opening")
