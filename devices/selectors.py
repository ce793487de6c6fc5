"""Reads of devices and cameras for the lists; each takes the actor and starts from its scope."""

from __future__ import annotations

from django.db.models import Prefetch

from .models import Device, Relay, ThirdPartyCamera


def apartment_devices(*, actor, apartment):
    """The apartment page's Intercom Devices, with their MACs."""
    return (
        Device.objects.for_actor(actor)
        .filter(apartment=apartment)
        .select_related("mac_address")
        .order_by("name", "pk")
    )


def apartment_cameras(*, actor, apartment):
    """The apartment page's Third Party Devices, with their linked door phones."""
    return (
        ThirdPartyCamera.objects.for_actor(actor)
        .filter(apartment=apartment)
        .prefetch_related(Prefetch("linked_devices", queryset=Device.objects.order_by("name", "pk")))
        .order_by("name", "pk")
    )


def device_relays(*, device):
    return Relay.objects.filter(device=device).order_by("kind", "index")
