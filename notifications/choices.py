"""The words of the notification log: what an email was about, to whom, and how it went."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    EXPIRATION = "expiration", _("Expiration")
    RENEWAL = "renewal", _("Renewal")
    ACCOUNT = "account", _("Account")
    FEEDBACK = "feedback", _("Feedback")


class AccountType(models.TextChoices):
    """The paid accounts whose expiry is notified (billing's item types of the same names)."""

    APP = "app", _("App")
    PM_APP = "pm_app", _("PM App")
    USER = "user", _("Portal account")
    NONE = "", "--"


class Recipient(models.TextChoices):
    END_USER = "end_user", _("End user")
    PROPERTY_MANAGER = "property_manager", _("Property manager")
    INSTALLER = "installer", _("Installer")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
