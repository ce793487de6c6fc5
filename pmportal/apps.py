from django.apps import AppConfig


class PmPortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pmportal"
    verbose_name = "Property Manager Portal"
