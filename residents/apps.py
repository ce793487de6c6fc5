from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "residents"

    def ready(self) -> None:
        from . import permissions  # noqa: F401  (registers the authz predicates)
