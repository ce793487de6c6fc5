from django.apps import AppConfig


class RentManagerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rentmanager"
    verbose_name = "Rent Manager"
