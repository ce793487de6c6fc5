"""PIN codes and RF cards of residents, delivered to the door devices that they open."""

from django.apps import AppConfig


class AccessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from devices import hooks as device_hooks
        from devices import signals as device_signals
        from residents import hooks

        from . import permissions, services, views

        assert permissions  # imported for its authz predicates

        hooks.register(hooks.apartment_resetting, services.apartment_resetting)
        hooks.register(hooks.residents_deleting, services.residents_deleting)
        hooks.register(hooks.apartment_deleting, services.apartment_deleting)
        hooks.register(hooks.apartment_moved, services.apartment_moved)
        hooks.register(hooks.apartment_panels, views.apartment_panel)
        device_hooks.register(device_hooks.device_panels, views.device_panel)
        device_hooks.register(device_hooks.event_users, services.event_users)
        device_hooks.register(device_hooks.devices_changed, services.door_devices_changed)
        device_signals.command_reported.connect(
            services.command_reported, dispatch_uid="access.command_reported"
        )
