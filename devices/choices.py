"""Choices of intercom devices and relays, named as the spec's Add Device forms name them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceType(models.IntegerChoices):
    """The template's device type codes."""

    MULTI_TENANT_DOOR_PHONE = 0, _("Multi-tenant door phone")
    SINGLE_TENANT_DOOR_PHONE = 1, _("Single-tenant door phone")
    INDOOR_MONITOR = 2, _("Indoor monitor")
    GUARD_PHONE = 3, _("Guard phone")
    ACCESS_CONTROL = 50, _("Access control")


DOOR_PHONES = frozenset({DeviceType.MULTI_TENANT_DOOR_PHONE, DeviceType.SINGLE_TENANT_DOOR_PHONE})


class Place(models.TextChoices):
    """Where a device or camera is installed: the node of the Resident and Device tree."""

    PUBLIC = "public", _("Public Area")
    BUILDING = "building", _("Building")
    APARTMENT = "apartment", _("Apartment")


# Indoor monitors belong to apartments; the shared places take the other types.
PLACE_TYPES = {
    Place.PUBLIC: (
        DeviceType.MULTI_TENANT_DOOR_PHONE,
        DeviceType.SINGLE_TENANT_DOOR_PHONE,
        DeviceType.GUARD_PHONE,
        DeviceType.ACCESS_CONTROL,
    ),
    Place.BUILDING: (
        DeviceType.MULTI_TENANT_DOOR_PHONE,
        DeviceType.SINGLE_TENANT_DOOR_PHONE,
        DeviceType.GUARD_PHONE,
        DeviceType.ACCESS_CONTROL,
    ),
    Place.APARTMENT: tuple(DeviceType),
}


class ContactDisplay(models.TextChoices):
    """Contact Display Settings of a building device: what the door phone's contact screen lists."""

    APT_NUMBERS = "apt", _("Only APT numbers")
    INDOOR_AND_APPS = "indoor_apps", _("Indoor monitor and apps")
    ALL = "all", _("APT numbers, indoor monitors and apps")


class NetworkGroup(models.IntegerChoices):
    """Devices in one group share a LAN and call each other by IP; across groups they use SIP."""

    GROUP_1 = 1, _("Network Group 1")
    GROUP_2 = 2, _("Network Group 2")
    GROUP_3 = 3, _("Network Group 3")
    GROUP_4 = 4, _("Network Group 4")
    GROUP_5 = 5, _("Network Group 5")
    GROUP_6 = 6, _("Network Group 6")
    GROUP_7 = 7, _("Network Group 7")
    GROUP_8 = 8, _("Network Group 8")
    GROUP_9 = 9, _("Network Group 9")
    GROUP_10 = 10, _("Network Group 10")


class AccessMethod(models.TextChoices):
    """What may trigger a relay (6.7.0 "Support selecting access methods")."""

    HOMEPAGE = "homepage", _("SmartPlus Homepage")
    TALKING_PAGE = "talking_page", _("SmartPlus Talking page")
    PIN = "pin", "PIN"
    FACE = "face", _("Face")
    RF_CARD = "rf_card", _("RF Card")
    BLUETOOTH = "bluetooth", _("Bluetooth")
    NFC = "nfc", "NFC"


class RelayKind(models.TextChoices):
    RELAY = "relay", _("Relay")
    SECURITY = "security", _("Security Relay")


class DeviceStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


class Transport(models.IntegerChoices):
    """Connection Type of the Settings dialog: `Config.Account1.SIP.TransType`."""

    UDP = 0, "UDP"
    TCP = 1, "TCP"
    TLS = 2, "TLS"


class CommandKind(models.TextChoices):
    """What a device command asks the device to do (remote maintenance, firmware upgrade, and what
    the apps above devices send: access credentials, weather)."""

    REBOOT = "reboot", _("Reboot")
    RESET = "reset", _("Reset")
    AUTOP = "autop", _("AutoP")
    ONE_TIME_AUTOP = "one_time_autop", _("One-Time AutoP")
    UPGRADE = "upgrade", _("Firmware upgrade")
    USERS = "users", _("Access credentials")
    WEATHER = "weather", _("Weather")


class CommandStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DELIVERED = "delivered", _("Delivered")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_COMMAND_STATUSES = frozenset({CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.CANCELLED})


class DeviceModel(models.TextChoices):
    """The Akuvox models the portal knows (ARCHITECTURE.md §5)."""

    R29 = "R29", "R29"
    R28 = "R28", "R28"
    R27 = "R27", "R27"
    R20A = "R20A", "R20A"
    X912 = "X912", "X912"
    X916 = "X916", "X916"
    C313 = "C313", "C313"
    C319 = "C319", "C319"
    IT82 = "IT82", "IT82"


# What Add Device offers as a door phone's Model: the door phones among the known models.
DOOR_PHONE_MODELS = (
    DeviceModel.R29,
    DeviceModel.R28,
    DeviceModel.R27,
    DeviceModel.R20A,
    DeviceModel.X912,
    DeviceModel.X916,
)


# Firmware version prefix -> model (ARCHITECTURE.md §5): "29.30.2.14" is an R29.
MODEL_BY_FIRMWARE_PREFIX = {
    "29": "R29",
    "28": "R28",
    "227": "R27",
    "320": "R20A",
    "912": "X912",
    "916": "X916",
    "113": "C313",
    "119": "C319",
    "82": "IT82",
}
