"""Statuses and kinds of the Rent Manager sync log."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    SUCCESS = "success", _("Success")
    PARTIAL = "partial", _("Partly failed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (another sync was running)")


class Kind(models.TextChoices):
    PROPERTY = "property", _("Property")
    UNIT = "unit", _("Unit")
    TENANT = "tenant", _("Tenant")


class Outcome(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    DELETED = "deleted", _("Deleted")
    UNCHANGED = "unchanged", _("Unchanged")
    FLAGGED = "flagged", _("Flagged")
    FAILED = "failed", _("Failed")


# Contacts of a tenant that become family members (the others, guarantors and the like, do not).
MEMBER_APPLICANT_TYPES = frozenset({"primary", "occupant"})
