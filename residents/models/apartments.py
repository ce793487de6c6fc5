"""Apartments and their end users: the family master (the resident) and the family members."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.choices import Language
from communities.models import Building, Community
from smartplus.models import ScopedModel

from ..choices import ActiveStatus, AppStatus, CallMode, CallType
from ..validators import apt_number_validator

MAX_FLOOR = 128
MAX_WEB_RELAY_ID = 50

floors_validator = RegexValidator(r"^\d{1,3}(,\d{1,3})*$", _("Choose floors from the list."))


def floor_label(number: str, floor) -> str:
    """ "101 (Floor 1)", or the bare number without a floor."""
    if not floor:
        return number
    return gettext("%(number)s (Floor %(floor)s)") % {"number": number, "floor": floor}


class Apartment(ScopedModel):
    """An APT of a building. `community` is stored too: APTs are unique per community and the
    resident search filters by community without joining buildings."""

    # No index of their own: (community, number) and (building, -created) lead with them, and each
    # index more is written for every apartment an import or a sync adds.
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="apartments", db_index=False
    )
    # Deleting a building is refused while it holds apartments (communities.services); the
    # cascade is for deleting a whole community.
    building = models.ForeignKey(
        Building, on_delete=models.CASCADE, related_name="apartments", db_index=False
    )
    floor = models.PositiveSmallIntegerField(
        _("Floor"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FLOOR)],
        help_text=_("Usually a group of apartments, it can be used in the lift control feature."),
    )
    number = models.CharField(
        _("APT"),
        max_length=16,
        validators=[apt_number_validator],
        help_text=_(
            "A unique number, visitors can dial the number on the door phone to reach the residents."
        ),
    )
    name = models.CharField(_("APT Name"), max_length=64, blank=True)
    web_relay_id = models.PositiveSmallIntegerField(
        _("Web Relay ID"), default=0, validators=[MaxValueValidator(MAX_WEB_RELAY_ID)]
    )
    call_type = models.PositiveSmallIntegerField(
        _("Call Type"), choices=CallType.choices, default=CallType.SMARTPLUS_AND_INDOOR
    )
    call_mode = models.CharField(
        _("SIP Call Or IP Call"), max_length=3, choices=CallMode.choices, default=CallMode.IP
    )
    family_sip_number = models.CharField(_("Family SIP Number"), max_length=10, unique=True, editable=False)

    class Meta:
        ordering = ["building", "number", "pk"]
        constraints = [
            models.UniqueConstraint(
                "community",
                "number",
                name="apartment_number_unique_per_community",
                violation_error_message=_("This APT already exists in the community."),
            )
        ]
        indexes = [models.Index(fields=["building", "-created", "-id"], name="apartment_building_created")]

    def __str__(self) -> str:
        return f"APT {self.number}"

    @property
    def label(self) -> str:
        """ "101 (Floor 1)" as the spec's lists show an APT."""
        return floor_label(self.number, self.floor)


class Resident(ScopedModel):
    """An end user of the SmartPlus app. `family_master` is empty for the apartment's resident
    (the family master) and points to it for family members."""

    audit_exclude = ("account_email_sent_to",)  # delivery state, not a change anyone made
    audit_repr_fields = ("first_name", "last_name", "community_id")

    # No index of its own: the (community, -created) and (community, name) indexes lead with it.
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="residents", db_index=False
    )
    apartment = models.ForeignKey(Apartment, on_delete=models.CASCADE, related_name="residents")
    family_master = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="family_members",
        db_index=False,  # indexed for family members only (Meta): masters are never looked up by it
    )
    first_name = models.CharField(_("First Name"), max_length=64)
    last_name = models.CharField(_("Last Name"), max_length=64)
    email = models.EmailField(_("Email"), blank=True)
    language = models.CharField(
        _("Language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    country = CountryField(_("Country / Region"), blank=True)
    mobile_number = models.CharField(_("Mobile Number"), max_length=20, blank=True)
    landline1 = models.CharField(_("Landline 1"), max_length=20, blank=True)
    landline2 = models.CharField(_("Landline 2"), max_length=20, blank=True)
    landline3 = models.CharField(_("Landline 3"), max_length=20, blank=True)
    accessible_floors = models.CharField(
        _("Accessible Floors"), max_length=400, blank=True, validators=[floors_validator]
    )
    # Subscription state (billing fills it) and app state (the app fills it).
    activated = models.BooleanField(_("Activated"), default=False)
    expires_at = models.DateTimeField(_("Expiration Time (App)"), null=True, blank=True)
    app_registered_at = models.DateTimeField(_("App registered"), null=True, blank=True)
    app_password = models.CharField(max_length=128, blank=True, editable=False)
    credentials_reset_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The address the account email (login and initial password) went to: the worker claims it
    # before sending, so a job delivered twice sends one email (residents.app_accounts).
    account_email_sent_to = models.CharField(max_length=254, blank=True, editable=False)
    # Edit APT's Reset Password asked for a new app password; the worker clears it once emailed,
    # so a duplicate or retried job sends one email at most.
    app_password_reset_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Per-account settings that survive an apartment reset.
    free_family_members = models.PositiveSmallIntegerField(_("Free family member accounts"), default=0)
    time_zone = models.CharField(_("Time Zone"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="resident_email_unique",
                violation_error_message=_("This email is already used by another end user."),
            ),
            models.UniqueConstraint(
                "apartment",
                condition=models.Q(family_master__isnull=True),
                name="one_family_master_per_apartment",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "-created", "-id"], name="resident_community_created"),
            models.Index(
                fields=["community", "first_name", "last_name", "id"], name="resident_community_name"
            ),
            models.Index(
                fields=["family_master"],
                condition=models.Q(family_master__isnull=False),
                name="resident_family_master",
            ),
            # The expiration sweep reads family masters by expiry (notifications.sweep).
            models.Index(
                fields=["expires_at"],
                condition=models.Q(family_master__isnull=True, activated=True),
                name="resident_master_expiry",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_family_master(self) -> bool:
        return self.family_master_id is None

    @property
    def active_status(self) -> str:
        from ..status import active_status

        return active_status(self.activated, self.expires_at)

    def get_active_status_display(self) -> str:
        return ActiveStatus(self.active_status).label

    @property
    def app_status(self) -> str:
        return AppStatus.REGISTERED if self.app_registered_at else AppStatus.UNREGISTERED

    def get_app_status_display(self) -> str:
        return AppStatus(self.app_status).label

    @property
    def country_calling_code(self) -> str:
        from smartplus.phones import calling_code

        return calling_code(self.country)

    @property
    def landlines(self) -> list[str]:
        return [n for n in (self.landline1, self.landline2, self.landline3) if n]

    @property
    def floor_list(self) -> list[int]:
        return [int(f) for f in self.accessible_floors.split(",") if f]
