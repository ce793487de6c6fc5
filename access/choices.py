"""Choices of access credentials, named as the spec's forms name them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CredentialKind(models.TextChoices):
    PIN = "pin", _("PIN")
    RF_CARD = "rf_card", _("RF Card")


class CredentialScope(models.TextChoices):
    """Which doors a credential opens: the community's public doors (the public area's and its
    apartment's building's), or the apartment's own door devices ("personal authentication",
    allowed under Public Area + Private Area only)."""

    PUBLIC = "public", _("Public devices")
    PRIVATE = "private", _("Apartment's own devices")
