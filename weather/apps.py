"""Current weather for communities with an address, sent to eligible indoor monitors."""

from django.apps import AppConfig


class WeatherConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "weather"
    verbose_name = "Weather"

    def ready(self) -> None:
        from communities import hooks

        from . import selectors, services

        hooks.register(hooks.address_changed, services.community_address_changed)
        hooks.register(hooks.community_panels, selectors.community_weather_panel)
