"""Choices of the accounts app: roles and the 12 languages of the product's account emails."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SUPER_MANAGER = "super_manager", _("Super manager")
    DISTRIBUTOR = "distributor", _("Distributor")
    INSTALLER = "installer", _("Project Manager")
    SUB_INSTALLER = "sub_installer", _("Sub-installer")
    PROPERTY_MANAGER = "property_manager", _("Property Manager")


class Language(models.TextChoices):
    """The spec's 12 email languages (resident and property manager accounts)."""

    ENGLISH = "en", _("English")
    SIMPLIFIED_CHINESE = "zh-hans", _("Simplified Chinese")
    KOREAN = "ko", _("Korean")
    JAPANESE = "ja", _("Japanese")
    TURKISH = "tr", _("Turkish")
    POLISH = "pl", _("Polish")
    RUSSIAN = "ru", _("Russian")
    SPANISH = "es", _("Spanish")
    BOSNIAN = "bs", _("Bosnian")
    DANISH = "da", _("Danish")
    VIETNAMESE = "vi", _("Vietnamese")
    FRENCH = "fr", _("French")
