"""Access credentials of end users. Property managers and later issues fill them; an apartment
reset removes every kind except RF cards, which the spec's reset list does not name."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from smartplus.models import ScopedModel

from ..choices import CredentialKind
from .apartments import Apartment, Resident


class AccessCredential(ScopedModel):
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="+")
    apartment = models.ForeignKey(Apartment, on_delete=models.CASCADE, related_name="credentials")
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, null=True, blank=True, related_name="credentials"
    )
    kind = models.CharField(_("Type"), max_length=10, choices=CredentialKind.choices)
    name = models.CharField(_("Name"), max_length=64, blank=True)
    # PIN code, card number, QR payload, Bluetooth/NFC identifier, or face image reference.
    code = models.CharField(_("Code"), max_length=128)

    class Meta:
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.pk}"
