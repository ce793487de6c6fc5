"""Access credentials (PIN codes and RF cards of end users) and what each door device holds of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartplus.models import ImportJob, ScopedModel
from smartplus.scoping import ScopedManager

from .choices import CredentialKind, CredentialScope


class Credential(ScopedModel):
    """A PIN or RF card of one end user (family master or member), for the community's public
    doors or the apartment's own doors, optionally valid within a window only.

    Uniqueness that does not depend on the community's PIN Mode is a constraint here; the rule
    that does (PIN: one PIN per community's public doors; APT+PIN: per apartment) is
    `access.services`', checked under the community's row lock."""

    scope_root = "community"
    scope_path = "community"
    # A PIN is a secret: the audit log records that it changed, not its digits.
    audit_exclude = ("code",)

    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="+")
    apartment = models.ForeignKey("residents.Apartment", on_delete=models.CASCADE, related_name="+")
    # Null only for an RF card kept with the apartment after its family member left (reset).
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Resident"),
    )
    kind = models.CharField(_("Type"), max_length=10, choices=CredentialKind.choices)
    code = models.CharField(_("Code"), max_length=32)
    name = models.CharField(_("Name"), max_length=64, blank=True)
    scope = models.CharField(
        _("Devices"), max_length=10, choices=CredentialScope.choices, default=CredentialScope.PUBLIC
    )
    valid_from = models.DateTimeField(_("Valid From"), null=True, blank=True)
    valid_until = models.DateTimeField(_("Valid Until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            # One code per door in every PIN Mode: the apartment's own doors, and (APT+PIN's
            # weakest rule) the public doors within one apartment.
            models.UniqueConstraint(
                fields=["apartment", "kind", "code"],
                condition=Q(scope="private"),
                name="credential_private_unique_per_apartment",
                violation_error_message=_("This code is already used for this apartment's devices."),
            ),
            models.UniqueConstraint(
                fields=["apartment", "kind", "code"],
                condition=Q(scope="public"),
                name="credential_public_unique_per_apartment",
                violation_error_message=_("This code is already used in this apartment."),
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="credential_window_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "-created", "-id"], name="credential_community_recent"),
            models.Index(fields=["community", "kind", "code"], name="credential_community_code"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.code_shown}"

    @property
    def code_shown(self) -> str:
        """PINs are not shown in lists: the last two digits only."""
        if self.kind == CredentialKind.PIN:
            return "•" * max(0, len(self.code) - 2) + self.code[-2:]
        return self.code

    def valid_at(self, when=None) -> bool:
        when = when or timezone.now()
        if self.valid_from and when < self.valid_from:
            return False
        return not (self.valid_until and when >= self.valid_until)


class DeviceUsers(models.Model):
    """What one door device holds of the credentials: the version the portal wants it to have
    (raised by every change that concerns it), the version it last fetched, and the version it
    acknowledged (its `users` command reported done)."""

    scope_root = "community"
    scope_path = "device__community"

    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="+")
    version_wanted = models.PositiveIntegerField(_("Credential version wanted"), default=0)
    version_served = models.PositiveIntegerField(default=0, editable=False)
    version_acknowledged = models.PositiveIntegerField(_("Credential version acknowledged"), default=0)
    acknowledged_at = models.DateTimeField(_("Acknowledged"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name_plural = "device users"

    def __str__(self) -> str:
        return f"{self.device_id}: {self.version_acknowledged}/{self.version_wanted}"

    @property
    def in_sync(self) -> bool:
        return self.version_acknowledged >= self.version_wanted


class CredentialImport(ImportJob):
    """An uploaded credentials template for one community (access.importing)."""

    scope_root = "community"
    scope_path = "community"
    importer = "access.importing.CredentialImporter"

    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="+")

    class Meta(ImportJob.Meta):
        verbose_name = _("credentials import")
