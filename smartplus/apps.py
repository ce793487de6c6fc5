from django.apps import AppConfig


class SmartplusConfig(AppConfig):
    name = "smartplus"
    verbose_name = "SmartPlus portal"

    def ready(self) -> None:
        from . import audit

        audit.connect_signals()
