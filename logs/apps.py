"""Door Log, Call History and Captured Images: the events devices send on the device API."""

from django.apps import AppConfig


class LogsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "logs"
    verbose_name = "Logs"

    def ready(self):
        from residents import hooks

        from . import (
            permissions,  # noqa: F401  (registers Log Access Control on the logs)
            services,
        )

        hooks.register(hooks.apartment_resetting, services.apartment_logs_reset)
