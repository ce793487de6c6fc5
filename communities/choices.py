"""Community settings' choices, named as the spec's New Community form names them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeaturePlan(models.TextChoices):
    BASIC = "basic", _("Basic")
    PREMIUM = "premium", _("Premium")
    ONE_MONITOR_ALL = "1monitor_all", "1Monitor_All"


class TimeFormat(models.TextChoices):
    H24 = "24h", _("24-hour time")
    H12 = "12h", _("12-hour time")


class DateFormat(models.TextChoices):
    YMD = "Y-m-d", _("Year-Month-Day")
    MDY = "m/d/Y", _("Month/Day/Year")
    DMY = "d/m/Y", _("Day/Month/Year")


class AccessControlPermission(models.TextChoices):
    PUBLIC_AND_PRIVATE = "public_private", _("Public Area + Private Area")
    PUBLIC_ONLY = "public_only", _("Only Public Area")


class PinMode(models.TextChoices):
    PIN = "pin", _("PIN")
    APT_PIN = "apt_pin", _("APT+PIN (e.g. 101 + 1234)")


class ChargeMode(models.TextChoices):
    PAY_BY_PM = "pm", _("Pay By PM")
    PAY_BY_INSTALLER = "installer", _("Pay By Installer")


class Integration(models.TextChoices):
    """Where a community's apartments and tenants come from (the spec's Property Management)."""

    NONE = "none", _("None")
    RENT_MANAGER = "rent_manager", "Rent Manager"
