from django.apps import AppConfig


class FirmwareConfig(AppConfig):
    name = "firmware"

    def ready(self) -> None:
        from devices import signals as device_signals

        from . import services

        # Devices report versions and command results; firmware settles its upgrade operations.
        device_signals.firmware_version_reported.connect(services.version_reported, dispatch_uid="firmware")
        device_signals.command_reported.connect(services.command_reported, dispatch_uid="firmware")
