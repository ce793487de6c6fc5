"""The five Premium controls (the spec's Feature Plan): what each is called, which devices it
reaches and the AutoP lines it renders there, and why it may not be switched.

"Basic: property managers are not authorized to: enable or disable Package Notification service
(supported by R29 door phone); enable or disable PIN code and QR code access method for the end
users; allow or not allow end users to create family accounts; control face recognition; monitor
third party camera in public area (end users cannot monitor third party camera either). Premium
authorizes the property managers to control all the above-mentioned items. When the feature plan
service expired, property managers will lose the above mentioned control."
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.choices import FeaturePlan
from communities.models import Community
from devices.autop import Command
from devices.choices import DOOR_PHONES, DeviceModel, DeviceType

# Intercoms that open a door: where PIN / QR codes and faces are accepted.
DOOR_TYPES = (*DOOR_PHONES, DeviceType.ACCESS_CONTROL)
R29_Q = Q(device_type__in=DOOR_PHONES) & (
    Q(model=DeviceModel.R29) | Q(model="", chosen_model=DeviceModel.R29)
)
DOOR_Q = Q(device_type__in=DOOR_TYPES)


@dataclass(frozen=True)
class Control:
    key: str  # the PremiumControl field
    label: str
    help: str
    devices: Q | None  # the community's devices it reaches (None: the apps only)
    autop_keys: tuple[str, ...] = ()  # the AutoP keys it sets on those devices ("1" / "0")

    @property
    def reaches(self) -> str:
        if self.devices is None:
            return str(_("SmartPlus app"))
        return str(_("R29 door phones") if self.devices is R29_Q else _("Door devices"))


CONTROLS: tuple[Control, ...] = (
    Control(
        "package_notification",
        _("Package Notification"),
        _("R29 door phones announce deliveries to the residents."),
        R29_Q,
        ("Config.DoorSetting.PACKAGE.Enable",),
    ),
    Control(
        "pin_qr_access",
        _("PIN and QR Code Access"),
        _("End users may open doors with a PIN code or a QR code."),
        DOOR_Q,
        ("Config.DoorSetting.PIN.Enable", "Config.DoorSetting.QRCODE.Enable"),
    ),
    Control(
        "family_account_creation",
        _("Family Account Creation"),
        _("End users may create family member accounts in the SmartPlus app."),
        None,
    ),
    Control(
        "face_recognition",
        _("Face Recognition"),
        _("Door devices open for the faces registered by the residents."),
        DOOR_Q,
        ("Config.DoorSetting.FACE.Enable",),
    ),
    Control(
        "public_camera_viewing",
        _("Public Area Camera Viewing"),
        _("End users may watch the third-party cameras of the public area in the app."),
        None,
    ),
)
BY_KEY = {c.key: c for c in CONTROLS}

BASIC_REFUSAL = _(
    "This community's feature plan is Basic: property managers may not change this. "
    "The feature plan is set when the community is created and cannot be changed."
)
EXPIRED_REFUSAL = _(
    "This community's Premium feature plan has expired: renew it in Subscriptions to change this."
)
NOT_PAID_REFUSAL = _(
    "This community's Premium feature plan is not activated yet: activate it in Subscriptions."
)


def plan_refusal(community: Community, at=None) -> str | None:
    """Why the controls may not be switched in `community` now, or None under Premium in force
    (the same rule as `communities.plans.premium_in_force`, with the reason)."""
    at = at or timezone.now()
    if community.feature_plan != FeaturePlan.PREMIUM:
        return str(BASIC_REFUSAL)
    if community.plan_expires_at is None:
        return str(NOT_PAID_REFUSAL)
    if community.plan_expires_at <= at:
        return str(EXPIRED_REFUSAL)
    return None


def autop_lines(device, row) -> list[Command]:
    """The lines `row`'s switches put in `device`'s AutoP file (none where no control reaches)."""
    lines = []
    is_door = device.device_type in DOOR_TYPES
    is_r29 = device.is_door_phone and (device.model or device.chosen_model) == DeviceModel.R29
    for control in CONTROLS:
        if control.devices is None or not (is_r29 if control.devices is R29_Q else is_door):
            continue
        value = "1" if getattr(row, control.key) else "0"
        lines += [Command(key, value) for key in control.autop_keys]
    return lines
