"""The words of the notification log: what an email was about, to whom, and how it went."""

from django.db import models


class Kind(models.TextChoices):
    EXPIRATION = "expiration", "Expiration"
    RENEWAL = "renewal", "Renewal"
    ACCOUNT = "account", "Account"
    FEEDBACK = "feedback", "Feedback"


class AccountType(models.TextChoices):
    """The paid accounts whose expiry is notified (billing's item types of the same names)."""

    APP = "app", "App"
    PM_APP = "pm_app", "PM App"
    USER = "user", "Portal account"
    NONE = "", "--"


class Recipient(models.TextChoices):
    END_USER = "end_user", "End user"
    PROPERTY_MANAGER = "property_manager", "Property manager"
    INSTALLER = "installer", "Installer"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
