from django.apps import AppConfig
from django.utils.translation import gettext


class DevicesConfig(AppConfig):
    name = "devices"

    def ready(self) -> None:
        from residents import hooks
        from residents.models import ResidentImport

        from . import services

        # The residents and devices template is imported here: it creates devices.
        ResidentImport.importer = "devices.template_import.TemplateImporter"
        # What the residents app's pages and writes need from an apartment's devices.
        hooks.register(hooks.apartment_requirements, services.indoor_monitor_requirement)
        hooks.register(hooks.apartment_add_dialogs, services.apartment_add_dialog)
        hooks.register(hooks.apartment_panels, services.apartment_panels)
        hooks.register(hooks.apartment_deletion_summaries, services.apartment_deletion_summary)
        hooks.register(hooks.apartment_deleting, services.apartment_deleting)
        hooks.register(hooks.apartment_moved, services.apartment_moved)
        hooks.register(hooks.community_recounts, services.community_recount)

        from maclib import services as maclib_services

        from .choices import Place

        # The MAC library's Owner column for a MAC bound to a device (maclib sits below devices).
        maclib_services.register_owner_label(
            lambda device: gettext("Public Device") if device.place == Place.PUBLIC else device.location
        )

        from . import permissions  # noqa: F401  (registers the authz predicates)
