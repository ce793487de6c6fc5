"""Statuses of firmware upgrades (the Upgrade module's list) and of their per-device operations."""

from django.db import models


class UpgradeStatus(models.TextChoices):
    """The spec's three: waiting for its time, running, and every device final."""

    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    EXECUTED = "executed", "Executed"


class OperationStatus(models.TextChoices):
    """One device's upgrade. The last four are final."""

    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    SUCCESS = "success", "Success"
    ALREADY_ON_VERSION = "already_on_version", "Already on version"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_OPERATION_STATUSES = (
    OperationStatus.SUCCESS,
    OperationStatus.ALREADY_ON_VERSION,
    OperationStatus.FAILED,
    OperationStatus.CANCELLED,
)


class Timing(models.TextChoices):
    """Update timing of Add / Edit upgrade."""

    NOW = "now", "Upgrade now"
    SCHEDULED = "scheduled", "At a date and time"
