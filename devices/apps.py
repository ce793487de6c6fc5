from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"

    def ready(self) -> None:
        from maclib import services as maclib_services

        from .choices import Place

        # The MAC library's Owner column for a MAC bound to a device (maclib sits below devices).
        maclib_services.register_owner_label(
            lambda device: "Public Device" if device.place == Place.PUBLIC else device.location
        )

        from . import permissions  # noqa: F401  (registers the authz predicates)
