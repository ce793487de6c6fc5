"""The five controls a property manager holds in a Premium community (the spec's Feature Plan):
one row per community, created the first time someone switches a control."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from smartplus.models import ScopedModel


class PremiumControl(ScopedModel):
    """What the devices and apps of a community do for the five Premium items. Changed only
    through `pmportal.services.premium_control_set`, while the Premium plan is in force; under
    Basic or after expiry the stored state stays as it was and nobody may switch it."""

    community = models.OneToOneField(Community, on_delete=models.CASCADE, related_name="premium_control")
    package_notification = models.BooleanField(_("Package Notification"), default=False)
    pin_qr_access = models.BooleanField(_("PIN and QR Code Access"), default=True)
    family_account_creation = models.BooleanField(_("Family Account Creation By End Users"), default=True)
    face_recognition = models.BooleanField(_("Face Recognition"), default=True)
    public_camera_viewing = models.BooleanField(_("Public Area Third-Party Camera Viewing"), default=True)

    class Meta:
        verbose_name = _("premium control")

    def __str__(self) -> str:
        return f"Premium controls of {self.community_id}"
