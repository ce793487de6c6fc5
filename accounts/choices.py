"""Choices of the accounts app: roles and the 12 languages of the product's account emails."""

from django.db import models


class Role(models.TextChoices):
    SUPER_MANAGER = "super_manager", "Super manager"
    DISTRIBUTOR = "distributor", "Distributor"
    INSTALLER = "installer", "Project Manager"
    SUB_INSTALLER = "sub_installer", "Sub-installer"
    PROPERTY_MANAGER = "property_manager", "Property Manager"


class Language(models.TextChoices):
    """The spec's 12 email languages (resident and property manager accounts)."""

    ENGLISH = "en", "English"
    SIMPLIFIED_CHINESE = "zh-hans", "Simplified Chinese"
    KOREAN = "ko", "Korean"
    JAPANESE = "ja", "Japanese"
    TURKISH = "tr", "Turkish"
    POLISH = "pl", "Polish"
    RUSSIAN = "ru", "Russian"
    SPANISH = "es", "Spanish"
    BOSNIAN = "bs", "Bosnian"
    DANISH = "da", "Danish"
    VIETNAMESE = "vi", "Vietnamese"
    FRENCH = "fr", "French"
