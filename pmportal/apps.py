"""The property manager's portal and the fleet overview on the dashboards."""

from django.apps import AppConfig


class PmPortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pmportal"
    verbose_name = "Property Manager Portal"

    def ready(self):
        from communities import hooks
        from devices import autop

        from . import dashboard, lines

        hooks.register(hooks.dashboard_panels, dashboard.dashboard_panel)
        autop.register_lines(lines.premium_autop_lines)
