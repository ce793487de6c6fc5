from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"

    def ready(self) -> None:
        from . import permissions  # noqa: F401  (registers the authz predicates)
