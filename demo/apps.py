from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo seeding and `rundemo`: the top layer, allowed to import every app below it."""

    name = "demo"
    verbose_name = "Demo data"
