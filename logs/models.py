"""Door Log, Call History and Captured Images: events the devices send on the device API.

Millions of rows: not audited (the audit log records what people change, not what doors do),
deduplicated by (device, event_id), and indexed for seek pagination on (community, occurred_at
desc, id desc) so a page costs the same at 10,000 rows as at 5,000,000 (docs/logs.md)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from devices.models import Device
from residents.models import Apartment, Resident
from smartplus.scoping import ScopedManager

from .choices import DoorMethod, DoorResult


class PrivateStorage(FileSystemStorage):
    """Captured images live outside MEDIA_ROOT, in SMARTPLUS_LOG_IMAGE_ROOT (read at each use, so
    tests may point it elsewhere), and have no URL: only logs.views serves them, after
    authorizing the reader."""

    @property
    def base_location(self):
        return settings.SMARTPLUS_LOG_IMAGE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Captured images have no public URL; link logs:capturedimage_file.")


private_storage = PrivateStorage()


def _private_storage():
    return private_storage


class DeviceEvent(models.Model):
    """What every event of a device has: where it happened, when, and the device's own id."""

    scope_root = "community"
    scope_path = "community"

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", db_index=False)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False)
    # The name at the time of the event: a deleted or renamed device keeps its history readable.
    device_name = models.CharField(_("Device"), max_length=64, blank=True)
    apartment = models.ForeignKey(
        Apartment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    occurred_at = models.DateTimeField(_("Time"))
    event_id = models.CharField(_("Device event ID"), max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        abstract = True

    @staticmethod
    def event_indexes(prefix: str) -> list:
        return [
            # Page 1, the next pages (seek) and a date range, per community.
            models.Index(fields=["community", "-occurred_at", "-id"], name=f"{prefix}_community_time"),
            models.Index(fields=["device", "-occurred_at", "-id"], name=f"{prefix}_device_time"),
            # The APT filter and a reset's delete; most events of public doors have no APT.
            models.Index(
                fields=["apartment", "-occurred_at", "-id"],
                name=f"{prefix}_apartment_time",
                condition=Q(apartment__isnull=False),
            ),
            # Retention purges the oldest first.
            models.Index(fields=["occurred_at"], name=f"{prefix}_occurred"),
        ]


class DoorEvent(DeviceEvent):
    """A door opened, or refused: the Door Log."""

    resident = models.ForeignKey(
        Resident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    resident_name = models.CharField(_("Resident"), max_length=128, blank=True)
    relay = models.PositiveSmallIntegerField(_("Relay"), null=True, blank=True)
    method = models.CharField(_("Type"), max_length=16, choices=DoorMethod.choices)
    credential = models.CharField(_("Credential"), max_length=64, blank=True)
    result = models.CharField(_("Result"), max_length=8, choices=DoorResult.choices)

    class Meta:
        verbose_name = _("door log")
        verbose_name_plural = _("door logs")
        constraints = [models.UniqueConstraint(fields=["device", "event_id"], name="doorevent_device_event")]
        indexes = [
            *DeviceEvent.event_indexes("doorevent"),
            models.Index(fields=["resident"], name="doorevent_resident", condition=Q(resident__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.device_name} {self.occurred_at:%Y-%m-%d %H:%M:%S} {self.method} {self.result}"


class CallEvent(DeviceEvent):
    """A call from a device (or to it): the Call History. `occurred_at` is when it started."""

    caller = models.CharField(_("Caller"), max_length=128)
    callee = models.CharField(_("Callee"), max_length=128)
    duration = models.PositiveIntegerField(_("Duration (s)"), default=0)
    answered = models.BooleanField(_("Answered"), default=False)

    class Meta:
        verbose_name = _("call history")
        verbose_name_plural = _("call histories")
        constraints = [models.UniqueConstraint(fields=["device", "event_id"], name="callevent_device_event")]
        indexes = DeviceEvent.event_indexes("callevent")

    def __str__(self) -> str:
        return f"{self.caller} → {self.callee} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class CapturedImage(models.Model):
    """A JPEG a device took at a door event or a call, kept in private storage."""

    scope_root = "community"
    scope_path = "community"

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", db_index=False)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False)
    device_name = models.CharField(_("Device"), max_length=64, blank=True)
    apartment = models.ForeignKey(
        Apartment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    door_event = models.OneToOneField(
        DoorEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="image"
    )
    call_event = models.OneToOneField(
        CallEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="image"
    )
    image = models.FileField(storage=_private_storage, upload_to="%Y/%m/%d/", max_length=200)
    # A small JPEG for the list (made at upload), so a page of 50 does not load 50 full captures.
    thumbnail = models.FileField(storage=_private_storage, upload_to="%Y/%m/%d/", max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    occurred_at = models.DateTimeField(_("Time"))
    received_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("captured image")
        verbose_name_plural = _("captured images")
        constraints = [
            models.CheckConstraint(
                condition=Q(door_event__isnull=False, call_event__isnull=True)
                | Q(door_event__isnull=True, call_event__isnull=False),
                name="capturedimage_one_event",
            )
        ]
        indexes = DeviceEvent.event_indexes("capturedimage")  # device: covered by device_time

    def __str__(self) -> str:
        return f"{self.device_name} {self.occurred_at:%Y-%m-%d %H:%M:%S}"
