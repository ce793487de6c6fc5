"""Communities: the installer's sites and every setting of the spec's Community Setting table."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from smartplus.models import ScopedModel
from smartplus.timezones import time_zone_choices
from smartplus.validators import post_code_validator

from .choices import (
    AccessControlPermission,
    ChargeMode,
    DateFormat,
    FeaturePlan,
    Integration,
    PinMode,
    TimeFormat,
)

MAX_APARTMENTS = 10000


class Community(ScopedModel):
    scope_root = "community"
    scope_path = ""
    audit_exclude = ("apartment_count", "end_user_count", "device_count")

    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="communities"
    )
    name = models.CharField(_("Community Name"), max_length=64)
    number_of_apartments = models.PositiveIntegerField(
        _("Number of apartments"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_APARTMENTS)],
    )
    home_automation = models.BooleanField(_("Home Automation Service"), default=False)
    community_calls = models.BooleanField(_("Community Calls"), default=False)
    landline_service = models.BooleanField(_("Landline Service"), default=False)
    feature_plan = models.CharField(
        _("Feature Plan"), max_length=16, choices=FeaturePlan.choices, default=FeaturePlan.PREMIUM
    )
    # The Premium plan is paid per community (billing); its features hold until this time.
    plan_expires_at = models.DateTimeField(
        _("Feature Plan Expiration Time"), null=True, blank=True, editable=False
    )
    country = CountryField(_("Country / Region"))
    state = models.CharField(_("State/Province"), max_length=64, blank=True)
    city = models.CharField(_("City"), max_length=64)
    post_code = models.CharField(_("Post Code"), max_length=16, blank=True, validators=[post_code_validator])
    street = models.CharField(_("Street"), max_length=128)
    time_zone = models.CharField(_("Time Zone"), max_length=64, default="UTC", choices=time_zone_choices)
    time_format = models.CharField(
        _("Time Format"), max_length=3, choices=TimeFormat.choices, default=TimeFormat.H24
    )
    date_format = models.CharField(
        _("Date Format"), max_length=8, choices=DateFormat.choices, default=DateFormat.YMD
    )
    access_control_permission = models.CharField(
        _("Permission Of Access Control Management"),
        max_length=16,
        choices=AccessControlPermission.choices,
        default=AccessControlPermission.PUBLIC_AND_PRIVATE,
    )
    pin_mode = models.CharField(_("PIN Mode"), max_length=8, choices=PinMode.choices, default=PinMode.PIN)
    charge_mode = models.CharField(
        _("Charge Mode"), max_length=10, choices=ChargeMode.choices, default=ChargeMode.PAY_BY_INSTALLER
    )
    send_expiration_email = models.BooleanField(_("Send Expiration Email To End User/PM"), default=False)
    send_renew_email = models.BooleanField(_("Send Renew Email To End User"), default=False)
    # A community synchronised from Rent Manager: the spec's locked settings stay as generated
    # (communities.services.INTEGRATION_LOCKED) and Subscriptions shows Service Type Integration.
    integration = models.CharField(
        _("Integration"), max_length=16, choices=Integration.choices, default=Integration.NONE, editable=False
    )
    # Kept by the residents services in the same transaction as each change, so the dashboard,
    # the capacity rule and the resident search's "N In All" never count 100,000 rows.
    apartment_count = models.PositiveIntegerField(default=0, editable=False)
    end_user_count = models.PositiveIntegerField(_("End User Count"), default=0, editable=False)
    # Intercom devices (public area, buildings, apartments), kept by devices.services.
    device_count = models.PositiveIntegerField(_("Device Count"), default=0, editable=False)

    class Meta:
        verbose_name_plural = "communities"
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                "installer",
                models.functions.Lower("name"),
                name="community_name_unique_per_installer",
                violation_error_message=_("You already have a community with this name."),
            )
        ]
        indexes = [models.Index(fields=["installer", "name"])]

    def __str__(self) -> str:
        return self.name

    def audit_installer_id(self) -> int | None:
        return self.installer_id

    @property
    def address(self) -> str:
        parts = [
            self.street,
            self.city,
            self.state,
            self.post_code,
            self.country.name if self.country else "",
        ]
        return ", ".join(p for p in parts if p)


class Building(ScopedModel):
    """A building of a community; apartments live in buildings (the tree of the Resident and Device page)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="buildings")
    name = models.CharField(_("Building"), max_length=128)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                "community",
                models.functions.Lower("name"),
                name="building_name_unique_per_community",
                violation_error_message=_("This community already has a building with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name
