"""The MAC library: the MACs an installer may add devices with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from smartplus.models import AuditedModel, ImportJob, TimeStampedModel
from smartplus.scoping import ScopedManager

from .validators import validate_mac


class MacAddress(TimeStampedModel, AuditedModel):
    """One MAC in one installer's library; a device binds it (Device.mac_address, one to one)."""

    scope_root = "installer"
    scope_path = "installer"

    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mac_addresses",
        verbose_name=_("Installer"),
    )
    # Unique across the platform: a MAC belongs to one installer at a time.
    mac = models.CharField(_("MAC"), max_length=12, unique=True, validators=[validate_mac])
    # Who registered it: the installer's staff or its distributor.
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = _("MAC")
        verbose_name_plural = _("MAC library")
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["installer", "-created", "-id"], name="maclib_installer_created")]

    def __str__(self) -> str:
        return self.mac

    def audit_installer_id(self) -> int | None:
        return self.installer_id


class MacImport(ImportJob):
    """An uploaded MAC template for one installer's library (a distributor picks the installer)."""

    scope_root = "installer"
    scope_path = "installer"
    importer = "maclib.imports.MacImporter"

    class Meta(ImportJob.Meta):
        verbose_name = _("MAC import")
