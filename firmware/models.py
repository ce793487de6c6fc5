"""The firmware catalogue (super manager), upgrades (installer) and one operation per device."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from devices.models import Device, DeviceCommand, model_for_firmware
from smartplus.models import AuditedModel, TimeStampedModel
from smartplus.scoping import ScopedManager

from .choices import FINAL_OPERATION_STATUSES, OperationStatus, UpgradeStatus

version_validator = RegexValidator(
    r"^\d{1,4}(\.\d{1,5}){2,4}$", _("Enter a firmware version such as 29.30.2.805 (numbers and dots).")
)


class Firmware(TimeStampedModel):
    """One firmware of the catalogue: an uploaded .rom file or the URL it is published at.

    Not tenant data: every role roles.py lets view the catalogue reads all of it.
    """

    scope_root = "global"
    scope_path = ""

    version = models.CharField(_("Version"), max_length=32, unique=True, validators=[version_validator])
    # The version's prefix names the model (29.30.2.805 -> R29).
    model = models.CharField(_("Model"), max_length=16, editable=False, db_index=True)
    version_log = models.TextField(_("Version Log"), blank=True)
    file = models.FileField(
        _("ROM file"),
        upload_to="firmware/",
        blank=True,
        validators=[FileExtensionValidator(["rom"])],
    )
    url = models.URLField(_("URL"), max_length=500, blank=True)
    sha256 = models.CharField(
        _("SHA-256"),
        max_length=64,
        validators=[RegexValidator(r"^[0-9a-f]{64}$", _("Enter the 64 hex digits of the SHA-256 checksum."))],
    )
    size = models.PositiveBigIntegerField(_("Size (bytes)"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(url="")) | (~Q(file="") & Q(url="")),
                name="firmware_file_or_url",
                violation_error_message=_("Upload a .rom file or give its URL (one of the two)."),
            )
        ]

    def __str__(self) -> str:
        return self.version

    def save(self, *args, **kwargs):
        self.model = model_for_firmware(self.version)
        super().save(*args, **kwargs)


class FirmwareUpgrade(TimeStampedModel, AuditedModel):
    """An Upgrade module record: one firmware pushed to chosen devices of one model, at a time."""

    scope_root = "installer"
    scope_path = "installer"

    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="firmware_upgrades"
    )
    firmware = models.ForeignKey(Firmware, on_delete=models.PROTECT, related_name="upgrades")
    model = models.CharField(_("Device"), max_length=16)
    # "Upgrade Time": when it is due (now, or the date and time the installer chose).
    scheduled_at = models.DateTimeField(_("Upgrade Time"))
    reset_after_upgrade = models.BooleanField(_("Reset After Upgrade"), default=False)
    status = models.CharField(
        _("Status"), max_length=12, choices=UpgradeStatus.choices, default=UpgradeStatus.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    executed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ScopedManager()

    class Meta:
        verbose_name = "firmware upgrade"
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["installer", "-created", "-id"], name="upgrade_installer_created"),
            models.Index(fields=["scheduled_at"], condition=Q(status="pending"), name="upgrade_due"),
        ]

    def __str__(self) -> str:
        return f"{self.firmware} → {self.model}"

    def audit_installer_id(self) -> int | None:
        return self.installer_id

    @property
    def is_editable(self) -> bool:
        return self.status == UpgradeStatus.PENDING


class UpgradeOperation(models.Model):
    """One device of an upgrade. The device's name and MAC are kept if the device is deleted."""

    scope_root = "installer"
    scope_path = "upgrade__installer"

    upgrade = models.ForeignKey(FirmwareUpgrade, on_delete=models.CASCADE, related_name="operations")
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, related_name="upgrade_operations"
    )
    device_name = models.CharField(_("Device Name"), max_length=64)
    mac = models.CharField(_("MAC"), max_length=12)
    status = models.CharField(
        _("Status"), max_length=20, choices=OperationStatus.choices, default=OperationStatus.PENDING
    )
    reason = models.CharField(_("Reason"), max_length=255, blank=True)
    version_before = models.CharField(_("Version Before"), max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The current attempt's command and the time its report is due.
    command = models.ForeignKey(
        DeviceCommand, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deadline = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("Finished"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["device_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["upgrade", "device"], name="operation_one_per_device"),
            # A device waits in at most one Pending upgrade: two would race to install two
            # versions. The service names the devices; this refuses a concurrent save.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(status="pending"),
                name="operation_one_pending_per_device",
                violation_error_message=_("This device already waits in another Pending upgrade."),
            ),
        ]
        indexes = [
            models.Index(fields=["device"], condition=Q(status="in_progress"), name="operation_in_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.device_name}: {self.get_status_display()}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_OPERATION_STATUSES
