from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "ansinh.demo"
    label = "demo"
    verbose_name = "Demo data"
