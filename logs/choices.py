"""Choices of the door log, call history and captured images."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DoorMethod(models.TextChoices):
    """How a door was (or was not) opened: the Door Log's Type column."""

    PIN = "pin", _("PIN")
    RF_CARD = "rf_card", _("RF Card")
    FACE = "face", _("Face")
    APP = "app", _("App")
    BLUETOOTH = "bluetooth", _("Bluetooth")
    NFC = "nfc", _("NFC")
    CALL = "call", _("Call")


class DoorResult(models.TextChoices):
    SUCCESS = "success", _("Success")
    REFUSED = "refused", _("Refused")


class EventKind(models.TextChoices):
    """The kinds a device sends in a batch, and whose image an upload is."""

    DOOR = "door", _("Door")
    CALL = "call", _("Call")
