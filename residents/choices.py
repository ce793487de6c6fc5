"""Choices of apartments and residents, named as the spec's Add APT form and template name them."""

from django.db import models


class CallType(models.IntegerChoices):
    """The template's call-type codes 0-5."""

    SMARTPLUS_AND_INDOOR = 0, "SmartPlus and indoor monitors"
    PHONE_AND_INDOOR = 1, "Phone and indoor monitors"
    SMARTPLUS_AND_INDOOR_PHONE_BACKUP = 2, "SmartPlus and indoor monitors, with phone as backup"
    INDOOR_SMARTPLUS_BACKUP = 3, "Indoor monitors with SmartPlus as backup"
    INDOOR_PHONE_BACKUP = 4, "Indoor monitors with phone as backup"
    INDOOR_SMARTPLUS_THEN_PHONE = 5, "Indoor monitors with SmartPlus as backup, finally phone"


class CallMode(models.TextChoices):
    """SIP Call Or IP Call."""

    IP = "ip", "IP Call (All the devices are deployed on the same local network)"
    SIP = "sip", "SIP Call (Some devices are deployed on a different network)"


class ActiveStatus(models.TextChoices):
    INACTIVATED = "inactivated", "Inactivated"
    NORMAL = "normal", "Normal"
    EXPIRED = "expired", "Expired"


class AppStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    UNREGISTERED = "unregistered", "Unregistered"


class CredentialKind(models.TextChoices):
    PIN = "pin", "PIN"
    RF_CARD = "rf_card", "RF Card"
    FACE = "face", "Face"
    NFC = "nfc", "NFC"
    BLUETOOTH = "bluetooth", "Bluetooth"
    QR_CODE = "qr", "QR Code"
