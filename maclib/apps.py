from django.apps import AppConfig


class MaclibConfig(AppConfig):
    name = "maclib"
