"""MAC library reads: the list (one query per page, whatever its size) and the Owner column."""

from __future__ import annotations

from django.utils.translation import gettext

from smartplus import roles

from .models import MacAddress
from .services import PLACE_KIND, owner_label


def mac_list(*, actor, action: str = roles.VIEW):
    """The actor's MACs with their installer and bound device (building, apartment) joined in."""
    return (
        MacAddress.objects.for_actor(actor, action)
        .select_related("installer", "device__building", "device__apartment")
        .only(
            "pk",
            "mac",
            "created",
            "installer_id",
            "installer__username",
            "device__id",
            "device__mac_address_id",
            "device__name",
            "device__place",
            "device__community_id",
            "device__building__id",
            "device__building__name",
            "device__apartment__id",
            "device__apartment__number",
        )
    )


def mac_owner(*, actor, mac: MacAddress) -> str:
    """The Owner column as the actor may see it: "" when the MAC is unbound."""
    if roles.allows(actor, "devices.device", roles.VIEW):
        return owner_label(mac)
    device = getattr(mac, "device", None)
    return str(PLACE_KIND.get(device.place) or gettext("Bound")) if device is not None else ""
