"""Community settings' choices, named as the spec's New Community form names them."""

from django.db import models


class FeaturePlan(models.TextChoices):
    BASIC = "basic", "Basic"
    PREMIUM = "premium", "Premium"
    ONE_MONITOR_ALL = "1monitor_all", "1Monitor_All"


class TimeFormat(models.TextChoices):
    H24 = "24h", "24-hour time"
    H12 = "12h", "12-hour time"


class DateFormat(models.TextChoices):
    YMD = "Y-m-d", "Year-Month-Day"
    MDY = "m/d/Y", "Month/Day/Year"
    DMY = "d/m/Y", "Day/Month/Year"


class AccessControlPermission(models.TextChoices):
    PUBLIC_AND_PRIVATE = "public_private", "Public Area + Private Area"
    PUBLIC_ONLY = "public_only", "Only Public Area"


class PinMode(models.TextChoices):
    PIN = "pin", "PIN"
    APT_PIN = "apt_pin", "APT+PIN (e.g. 101 + 1234)"


class ChargeMode(models.TextChoices):
    PAY_BY_PM = "pm", "Pay By PM"
    PAY_BY_INSTALLER = "installer", "Pay By Installer"


class Integration(models.TextChoices):
    """Where a community's apartments and tenants come from (the spec's Property Management)."""

    NONE = "none", "None"
    RENT_MANAGER = "rent_manager", "Rent Manager"
