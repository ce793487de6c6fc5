"""Intercom devices (public area, building, apartment), their relays, and third-party cameras."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Community
from maclib.models import MacAddress
from residents.models import Apartment
from smartplus.models import ScopedModel
from smartplus.scoping import ScopedManager

from .choices import (
    DOOR_PHONES,
    FINAL_COMMAND_STATUSES,
    MODEL_BY_FIRMWARE_PREFIX,
    AccessMethod,
    CommandKind,
    CommandStatus,
    ContactDisplay,
    DeviceModel,
    DeviceStatus,
    DeviceType,
    NetworkGroup,
    Place,
    RelayKind,
    Transport,
)
from .validators import dtmf_validator, validate_rtsp_address

MAX_RELAYS = 4


def model_for_firmware(version: str) -> str:
    """The device model named by a firmware version's prefix ("29.30.2.14" -> "R29"), or ""."""
    prefix = (version or "").strip().split(".", 1)[0]
    return MODEL_BY_FIRMWARE_PREFIX.get(prefix, "")


class PlacedModel(ScopedModel):
    """Installed at one place of a community: its public area, a building, or an apartment.

    Subclasses declare `community`, `building` and `apartment`. Apartment rows store the
    apartment's building too, so a building's page lists what is installed in it without a join.
    """

    place = models.CharField(_("Place"), max_length=10, choices=Place.choices)

    class Meta:
        abstract = True

    @property
    def location(self) -> str:
        """Public Area, "Building1" or "Building1-403" (the MAC library's Owner column)."""
        if self.place == Place.PUBLIC:
            return str(Place.PUBLIC.label)
        if self.place == Place.BUILDING:
            return self.building.name
        return f"{self.building.name}-{self.apartment.number}"

    @staticmethod
    def place_constraints(prefix: str) -> list[models.CheckConstraint]:
        return [
            models.CheckConstraint(
                condition=(
                    Q(place=Place.PUBLIC, building__isnull=True, apartment__isnull=True)
                    | Q(place=Place.BUILDING, building__isnull=False, apartment__isnull=True)
                    | Q(place=Place.APARTMENT, building__isnull=False, apartment__isnull=False)
                ),
                name=f"{prefix}_place_consistent",
            )
        ]


class Device(PlacedModel):
    """An Akuvox intercom device bound to a MAC of the installer's MAC library."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="devices")
    building = models.ForeignKey(
        Building, on_delete=models.CASCADE, null=True, blank=True, related_name="devices"
    )
    apartment = models.ForeignKey(
        Apartment, on_delete=models.CASCADE, null=True, blank=True, related_name="devices"
    )
    # Adding a device binds its MAC, deleting the device unbinds it; a bound MAC cannot be removed.
    mac_address = models.OneToOneField(
        MacAddress, on_delete=models.PROTECT, related_name="device", verbose_name=_("MAC")
    )
    device_type = models.PositiveSmallIntegerField(_("Device Type"), choices=DeviceType.choices)
    name = models.CharField(_("Device Name"), max_length=64)
    network_group = models.PositiveSmallIntegerField(
        _("Network Group"), choices=NetworkGroup.choices, default=NetworkGroup.GROUP_1
    )
    # Public area: the buildings whose residents use the device.
    all_buildings = models.BooleanField(_("All Buildings"), default=True)
    buildings = models.ManyToManyField(
        Building, blank=True, related_name="public_devices", verbose_name=_("Buildings")
    )
    # Building devices.
    contact_display = models.CharField(
        _("Contact Display Settings"), max_length=12, choices=ContactDisplay.choices, blank=True
    )
    # Indoor monitors.
    arming_function = models.BooleanField(_("Arming Function"), default=False)
    works_offline = models.BooleanField(
        _("Works offline"),
        default=False,
        help_text=_("Transfers calls from offline door phones to the SmartPlus app."),
    )
    # Door phones, when the distributor has the Doorphone Offline Solution.
    internet_access = models.BooleanField(_("Does the device have internet access?"), default=True)
    offline_ip = models.GenericIPAddressField(
        _("IP Address"),
        protocol="IPv4",
        null=True,
        blank=True,
        help_text=_("The static IP address of the indoor monitor that transfers calls for this door phone."),
    )
    # Door phones: the model the installer chose at Add Device, which counts until the device
    # reports its firmware (a new installation links its R29 to a camera before it is online).
    chosen_model = models.CharField(_("Model"), max_length=16, blank=True, choices=DeviceModel.choices)
    # Reported by the device itself (device API); the model follows the firmware version's prefix.
    firmware_version = models.CharField(_("Firmware Version"), max_length=32, blank=True)
    model = models.CharField(_("Reported Model"), max_length=16, blank=True, editable=False, db_index=True)
    last_seen_at = models.DateTimeField(_("Last Seen"), null=True, blank=True, editable=False)
    # The source address of the device's latest heartbeat: the only address the portal dials it at.
    lan_address = models.GenericIPAddressField(_("LAN Address"), null=True, blank=True, editable=False)
    # SHA-256 of the secret issued at first contact (device API); blank until the device registers.
    api_secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    # SHA-256 of the claim token of the adopted registration while the claim is open (adopted, no
    # authenticated heartbeat yet): a register with the same token gets the secret again, so a
    # lost reply recovers. The first heartbeat closes the claim (blank).
    claim_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Remote maintenance ("Settings" dialog): rendered into the device's AutoP file.
    transport = models.PositiveSmallIntegerField(
        _("Connection Type"), choices=Transport.choices, default=Transport.TCP
    )
    autop_commands = models.TextField(
        _("Others"),
        blank=True,
        help_text=_("AutoP commands, one per line: Config.Module.SECTION.Key = value"),
    )

    audit_exclude = ("api_secret_hash", "claim_hash")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            *PlacedModel.place_constraints("device"),
            # "Each apartment can only have one indoor monitor to transfer calls for offline door phones."
            models.UniqueConstraint(
                fields=["apartment"],
                condition=Q(works_offline=True),
                name="device_one_offline_monitor_per_apartment",
                violation_error_message=_("This apartment already has an indoor monitor that works offline."),
            ),
        ]
        indexes = [
            models.Index(fields=["community", "name", "id"], name="device_community_name"),
            models.Index(fields=["community", "created", "id"], name="device_community_created"),
            models.Index(fields=["community", "place", "name", "id"], name="device_community_place"),
            models.Index(fields=["building", "place", "name", "id"], name="device_building_place"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.model = model_for_firmware(self.firmware_version)
        if kwargs.get("update_fields") is not None and "firmware_version" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "model"}
        super().save(*args, **kwargs)

    @property
    def known_model(self) -> str:
        """The reported model, or until the device reports one the model chosen at Add Device."""
        return self.model or self.chosen_model

    @property
    def model_mismatch(self) -> str:
        """Why the chosen model is not what the device reports, or ""."""
        if self.model and self.chosen_model and self.model != self.chosen_model:
            return gettext(
                "The device reports model %(model)s (firmware %(firmware)s), not the "
                "%(chosen)s chosen at Add Device: the reported model counts."
            ) % {"model": self.model, "firmware": self.firmware_version, "chosen": self.chosen_model}
        return ""

    @property
    def registration_state(self) -> str:
        """First contact: "registered" (it holds its secret), "adopted" (a claim is adopted, the
        device has not heartbeated with its secret yet) or "open" (waiting for first contact)."""
        if self.claim_hash:
            return "adopted"
        return "registered" if self.api_secret_hash else "open"

    @property
    def is_door_phone(self) -> bool:
        return self.device_type in DOOR_PHONES

    @property
    def is_indoor_monitor(self) -> bool:
        return self.device_type == DeviceType.INDOOR_MONITOR

    @property
    def status(self) -> str:
        """Online while heartbeats keep arriving within SMARTPLUS_DEVICE_OFFLINE_AFTER seconds."""
        if self.last_seen_at is None:
            return DeviceStatus.OFFLINE
        age = (timezone.now() - self.last_seen_at).total_seconds()
        online = age <= settings.SMARTPLUS_DEVICE_OFFLINE_AFTER
        return DeviceStatus.ONLINE if online else DeviceStatus.OFFLINE

    def get_status_display(self) -> str:
        return str(DeviceStatus(self.status).label)


class Relay(models.Model):
    """Relay1-4 of a device, or its SR01 security relay, with the access methods that trigger it."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="relays")
    kind = models.CharField(max_length=8, choices=RelayKind.choices, default=RelayKind.RELAY)
    index = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_RELAYS)])
    enabled = models.BooleanField(_("On"), default=True)
    name = models.CharField(_("Relay Name"), max_length=64, blank=True)
    dtmf_code = models.CharField(_("DTMF Code"), max_length=8, blank=True, validators=[dtmf_validator])
    # Comma-separated AccessMethod values, in the form's order.
    access_methods = models.CharField(_("Access Method"), max_length=96, blank=True)

    class Meta:
        ordering = ["device", "kind", "index"]
        constraints = [
            models.UniqueConstraint(fields=["device", "kind", "index"], name="relay_unique_index"),
            models.CheckConstraint(
                condition=Q(kind=RelayKind.RELAY) | Q(index=1), name="relay_one_security_relay"
            ),
        ]

    def __str__(self) -> str:
        label = "Security Relay" if self.kind == RelayKind.SECURITY else f"Relay{self.index}"
        return f"{label}: {self.name}" if self.name else label

    @property
    def method_list(self) -> list[str]:
        return [m for m in self.access_methods.split(",") if m]

    @property
    def method_labels(self) -> list[str]:
        return [str(AccessMethod(m).label) for m in self.method_list]


class ThirdPartyCamera(PlacedModel):
    """A third-party RTSP camera. The password is kept encrypted (smartplus.crypto)."""

    # The ciphertext changes on every save and on key rotation: never worth an audit entry.
    audit_exclude = ("password_ciphertext",)

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="cameras")
    building = models.ForeignKey(
        Building, on_delete=models.CASCADE, null=True, blank=True, related_name="cameras"
    )
    apartment = models.ForeignKey(
        Apartment, on_delete=models.CASCADE, null=True, blank=True, related_name="cameras"
    )
    name = models.CharField(_("Device Name"), max_length=64)
    rtsp_address = models.CharField(_("RTSP Address"), max_length=255, validators=[validate_rtsp_address])
    username = models.CharField(_("Username"), max_length=64)
    password_ciphertext = models.TextField(editable=False)
    # Only R29 door phones of the same place (checked in devices.services).
    linked_devices = models.ManyToManyField(
        Device, blank=True, related_name="cameras", verbose_name=_("Link Device")
    )

    class Meta:
        verbose_name = _("third-party camera")
        ordering = ["name", "pk"]
        constraints = PlacedModel.place_constraints("camera")
        indexes = [
            models.Index(fields=["community", "place", "name", "id"], name="camera_community_place"),
            models.Index(fields=["building", "place", "name", "id"], name="camera_building_place"),
        ]

    def __str__(self) -> str:
        return self.name


class RegistrationRequest(models.Model):
    """A device's first contact waiting for the installer: shown on the device page (model,
    firmware, source address, when) with Adopt and Reject. Only bound MACs get one, at most
    `MAX_PER_DEVICE` per device (the most recently seen)."""

    MAX_PER_DEVICE = 5

    scope_root = "community"
    scope_path = "device__community"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="registration_requests")
    claim_hash = models.CharField(max_length=64, editable=False)
    model = models.CharField(_("Model"), max_length=16, blank=True)
    firmware_version = models.CharField(_("Firmware Version"), max_length=32, blank=True)
    source_address = models.GenericIPAddressField(_("Source Address"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("First Seen"))
    last_seen_at = models.DateTimeField(_("Last Seen"))
    attempts = models.PositiveIntegerField(_("Attempts"), default=1)

    objects = ScopedManager()

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["device", "claim_hash"], name="registrationrequest_unique_claim")
        ]

    def __str__(self) -> str:
        return f"{self.device} from {self.source_address or 'unknown address'}"


class ProvisioningCode(models.Model):
    """An installer's provisioning code: part of the server settings the installer puts on devices.
    A first contact carrying it is adopted at once when the MAC is bound to one of the installer's
    devices whose registration is open. Stored encrypted (shown to the installer) and hashed
    (looked up by the device API)."""

    scope_root = "installer"
    scope_path = "installer"

    installer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provisioning_code"
    )
    code_ciphertext = models.TextField(editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Provisioning code of {self.installer}"


class DeviceCommand(models.Model):
    """An operation queued for one device, collected by the device on its own heartbeat.

    The device page lists them with their state; a firmware upgrade operation links its command.
    """

    scope_root = "community"
    scope_path = "device__community"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    kind = models.CharField(_("Operation"), max_length=16, choices=CommandKind.choices)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("Status"), max_length=12, choices=CommandStatus.choices, default=CommandStatus.QUEUED
    )
    message = models.CharField(_("Reason"), max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("Created Time"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("Delivered"), null=True, blank=True)
    finished_at = models.DateTimeField(_("Finished"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            # The heartbeat's read: this device's queued commands.
            models.Index(fields=["device", "id"], condition=Q(status="queued"), name="devicecommand_queued"),
            models.Index(fields=["device", "-created", "-id"], name="devicecommand_device_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_COMMAND_STATUSES
