"""Statuses of firmware upgrades (the Upgrade module's list) and of their per-device operations."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UpgradeStatus(models.TextChoices):
    """The spec's three: waiting for its time, running, and every device final."""

    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    EXECUTED = "executed", _("Executed")


class OperationStatus(models.TextChoices):
    """One device's upgrade. The last four are final."""

    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    SUCCESS = "success", _("Success")
    ALREADY_ON_VERSION = "already_on_version", _("Already on version")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_OPERATION_STATUSES = (
    OperationStatus.SUCCESS,
    OperationStatus.ALREADY_ON_VERSION,
    OperationStatus.FAILED,
    OperationStatus.CANCELLED,
)


class Timing(models.TextChoices):
    """Update timing of Add / Edit upgrade."""

    NOW = "now", _("Upgrade now")
    SCHEDULED = "scheduled", _("At a date and time")
