"""Portal users and what hangs off them: roles, PM community assignments, billing and support contacts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from smartplus.models import AuditedModel, ScopedModel, TimeStampedModel
from smartplus.scoping import ScopedManager, ScopedQuerySet, member_installer_id
from smartplus.timezones import time_zone_choices
from smartplus.validators import phone_validator, post_code_validator

from .choices import Language, Role


class PortalUserManager(UserManager.from_queryset(ScopedQuerySet)):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.SUPER_MANAGER)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser, AuditedModel):
    """Every portal login. The role says which of the FKs below matter."""

    audit_exclude = ("date_joined", "password_changed_at", "account_email_sent_at")
    scope_root = "installer"
    scope_path = ""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.INSTALLER, db_index=True)
    # An installer's distributor.
    distributor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="installers",
        limit_choices_to={"role": Role.DISTRIBUTOR},
    )
    # The installer (tenant) a sub-installer or property manager belongs to.
    installer = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff",
        limit_choices_to={"role": Role.INSTALLER},
    )
    phone = models.CharField(_("Phone"), max_length=32, blank=True, validators=[phone_validator])
    time_zone = models.CharField(_("Time Zone"), max_length=64, default="UTC", choices=time_zone_choices)
    language = models.CharField(
        _("Language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # The portal's UI language (a code of settings.LANGUAGES); blank: follow the browser
    # (language cookie, then Accept-Language). `language` above is the emails' language.
    ui_language = models.CharField(_("UI language"), max_length=16, blank=True, default="")
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # When the set-password email of the current credentials went out; empty while one is due.
    # Issuing credentials empties it, the worker claims it before sending (exactly one email).
    account_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Property managers: prompt for a new password every month.
    monthly_password_reminder = models.BooleanField(_("Monthly Password Update Reminder"), default=False)
    # Installers: the distributor enabled account access, and the installer granted it.
    account_access_enabled = models.BooleanField(_("Account access enabled"), default=False)
    permission_granted = models.BooleanField(_("Permission Granted"), default=False)
    # Distributors: feature switches the super manager turns on.
    community_calls_enabled = models.BooleanField(_("Community Calls"), default=False)
    doorphone_offline_enabled = models.BooleanField(_("Doorphone Offline Solution"), default=False)

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("user")
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_ci_unique",
                violation_error_message=_("This email is already used by another account."),
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username

    def audit_installer_id(self) -> int | None:
        return member_installer_id(self)


# --- Role views of the user table: each one a scoped, audited list of its own ---


class _RoleManager(PortalUserManager):
    def __init__(self, role: str):
        super().__init__()
        self._role = role

    def get_queryset(self):
        return super().get_queryset().filter(role=self._role)


class SubAccount(User):
    """A sub-installer: staff of one installer, seeing exactly the installer's data."""

    scope_root = "installer"
    scope_path = "installer"
    objects = _RoleManager(Role.SUB_INSTALLER)

    class Meta:
        proxy = True
        verbose_name = _("sub-account")


class PropertyManager(User):
    scope_root = "installer"
    scope_path = "installer"
    objects = _RoleManager(Role.PROPERTY_MANAGER)

    class Meta:
        proxy = True
        verbose_name = _("property manager")


class Installer(User):
    """An installer as its distributor sees it."""

    scope_root = "distributor"
    scope_path = "distributor"
    objects = _RoleManager(Role.INSTALLER)

    class Meta:
        proxy = True
        verbose_name = _("installer")


class PropertyManagerAssignment(ScopedModel):
    """A property manager assigned to a community, with the permissions the installer set."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="pm_assignments"
    )
    property_manager = models.ForeignKey(User, on_delete=models.CASCADE, related_name="pm_assignments")
    app_enabled = models.BooleanField(_("App"), default=False)
    delete_account_permission = models.BooleanField(_("Delete Account Permission"), default=False)
    log_access_control = models.BooleanField(_("Log Access Control"), default=False)
    app_password_reset_at = models.DateTimeField(null=True, blank=True)
    # The property manager's SmartPlus app service, paid like an end user's (billing).
    app_activated = models.BooleanField(_("App activated"), default=False, editable=False)
    app_expires_at = models.DateTimeField(_("App Expiration Time"), null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "property_manager"], name="pm_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.property_manager} @ {self.community}"


class InstallerOwnedModel(TimeStampedModel, AuditedModel):
    """One row per installer (account menu data)."""

    scope_root = "installer"
    scope_path = "installer"
    installer = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager()

    class Meta:
        abstract = True

    def audit_installer_id(self) -> int | None:
        return self.installer_id


class BillingInformation(InstallerOwnedModel):
    """Where the distributor sends the installer's bills."""

    company = models.CharField(_("Company/Family"), max_length=128)
    attn = models.CharField(_("ATTN"), max_length=128)
    street = models.CharField(_("Street"), max_length=256)
    city = models.CharField(_("City"), max_length=128)
    post_code = models.CharField(_("Post Code"), max_length=16, blank=True, validators=[post_code_validator])
    country = CountryField(_("Country"))
    tel = models.CharField(_("TEL"), max_length=32, validators=[phone_validator])
    fax = models.CharField(_("Fax"), max_length=32, blank=True, validators=[phone_validator])
    email = models.EmailField(_("Email"))

    def __str__(self) -> str:
        return f"Billing information of {self.installer}"


class CustomerService(InstallerOwnedModel):
    """The installer's contact shown to end users; feedback goes to the email when enabled."""

    phone = models.CharField(_("Phone"), max_length=32, validators=[phone_validator])
    email = models.EmailField(_("Email"))
    receive_feedback = models.BooleanField(_("Receive Feedback"), default=False)

    def __str__(self) -> str:
        return f"Customer service of {self.installer}"
