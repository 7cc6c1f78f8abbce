from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ansinh.core"
    label = "core"

    def ready(self):
        from . import staticfiles  # noqa: F401  (registers its system check)
