"""Reads of the firmware catalogue; each takes the actor and starts from its scope."""

from __future__ import annotations

from django.db.models import Q

from devices.models import Device
from smartplus import roles

from .models import Firmware


def catalogue(*, actor):
    """The Firmware list: the whole catalogue, for the roles that may view it."""
    return Firmware.objects.for_actor(actor)


def catalogue_models(*, actor) -> list[str]:
    """The models that have firmware in the catalogue (the Add Upgrade page's Model choices)."""
    models = catalogue(actor=actor).exclude(model="").order_by("model").values_list("model", flat=True)
    return list(models.distinct())


def firmware_of_model(*, actor, model: str):
    """The firmware an upgrade of `model` may install, newest first."""
    return catalogue(actor=actor).filter(model=model).order_by("-created", "-pk")


def upgrade_devices(*, actor, model: str, search: str = ""):
    """The devices of `model` across the actor's communities that an upgrade may pick, narrowed by
    the Add Upgrade page's search (name, community, building, MAC or firmware version).

    "Select all matching" is this queryset, run again by the service at save time."""
    devices = (
        Device.objects.for_actor(actor, roles.CHANGE)
        .filter(model=model)
        .select_related("community", "mac_address", "building", "apartment")
        .order_by("community__name", "name", "pk")
    )
    term = (search or "").strip()
    if not term:
        return devices
    match = (
        Q(name__icontains=term)
        | Q(community__name__icontains=term)
        | Q(building__name__icontains=term)
        | Q(firmware_version__startswith=term)
    )
    # A MAC is stored as 12 upper-case hex digits: "0c:11:05" finds 0C1105…
    mac = "".join(c for c in term if c not in ":-. ").upper()
    if len(mac) >= 2 and all(c in "0123456789ABCDEF" for c in mac):
        match |= Q(mac_address__mac__contains=mac)
    return devices.filter(match)
