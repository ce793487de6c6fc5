from django.apps import AppConfig


class SmartplusConfig(AppConfig):
    name = "smartplus"
    verbose_name = "SmartPlus portal"

    def ready(self) -> None:
        from django.core import checks

        from . import audit, lookups
        from .checks import device_settings_check, trusted_proxies_check, xlsx_parser_check

        audit.connect_signals()
        lookups.register()
        checks.register(xlsx_parser_check, checks.Tags.security)
        checks.register(device_settings_check)
        checks.register(trusted_proxies_check, checks.Tags.security)
