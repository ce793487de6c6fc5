"""Choices of apartments and residents, named as the spec's Add APT form and template name them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallType(models.IntegerChoices):
    """The template's call-type codes 0-5."""

    SMARTPLUS_AND_INDOOR = 0, _("SmartPlus and indoor monitors")
    PHONE_AND_INDOOR = 1, _("Phone and indoor monitors")
    SMARTPLUS_AND_INDOOR_PHONE_BACKUP = 2, _("SmartPlus and indoor monitors, with phone as backup")
    INDOOR_SMARTPLUS_BACKUP = 3, _("Indoor monitors with SmartPlus as backup")
    INDOOR_PHONE_BACKUP = 4, _("Indoor monitors with phone as backup")
    INDOOR_SMARTPLUS_THEN_PHONE = 5, _("Indoor monitors with SmartPlus as backup, finally phone")


class CallMode(models.TextChoices):
    """SIP Call Or IP Call."""

    IP = "ip", _("IP Call (All the devices are deployed on the same local network)")
    SIP = "sip", _("SIP Call (Some devices are deployed on a different network)")


class ActiveStatus(models.TextChoices):
    INACTIVATED = "inactivated", _("Inactivated")
    NORMAL = "normal", _("Normal")
    EXPIRED = "expired", _("Expired")


class AppStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    UNREGISTERED = "unregistered", _("Unregistered")


class CredentialKind(models.TextChoices):
    PIN = "pin", _("PIN")
    RF_CARD = "rf_card", _("RF Card")
    FACE = "face", _("Face")
    NFC = "nfc", _("NFC")
    BLUETOOTH = "bluetooth", _("Bluetooth")
    QR_CODE = "qr", _("QR Code")
