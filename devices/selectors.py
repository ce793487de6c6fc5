"""Reads of devices and cameras for the lists; each takes the actor and starts from its scope."""

from __future__ import annotations

from django.db.models import Prefetch

from communities.models import Building
from smartplus import roles

from .choices import DOOR_PHONES, Place
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


def _with_linked(queryset):
    return queryset.prefetch_related(
        Prefetch("linked_devices", queryset=Device.objects.only("pk", "name").order_by("name", "pk"))
    )


def community_cameras(*, actor, community):
    """The community node's Third Party Devices: every camera of the community, with the names
    its Location is made of and its linked door phones."""
    qs = (
        ThirdPartyCamera.objects.for_actor(actor)
        .filter(community=community)
        .select_related("building", "apartment")
    )
    return _with_linked(qs)


def public_cameras(*, actor, community):
    """The Public Area's Third Party Devices, with their linked door phones."""
    qs = ThirdPartyCamera.objects.for_actor(actor).filter(community=community, place=Place.PUBLIC)
    return _with_linked(qs).order_by("name", "pk")


def building_cameras(*, actor, building):
    """A building's own Third Party Devices (not its apartments'), with their linked door phones."""
    qs = ThirdPartyCamera.objects.for_actor(actor).filter(building=building, place=Place.BUILDING)
    return _with_linked(qs).order_by("name", "pk")


def camera_deletion_summary(*, camera: ThirdPartyCamera) -> list[str]:
    """What deleting a camera removes, for the confirmation dialog."""
    summary = [f"the camera “{camera.name}” ({camera.location})"]
    linked = [d.name for d in camera.linked_devices.order_by("name", "pk")]
    if linked:
        summary.append(f"its link to the door phone(s) {', '.join(linked)} (the door phones stay)")
    return summary


# --- intercom device lists and pages -----------------------------------------------------------

# What every device row shows: its MAC, and the names its Location is made of.
_ROW_RELATED = ("mac_address", "building", "apartment")


def community_devices(*, actor, community):
    """The community node's Intercom Devices: every device of the community, wherever it is."""
    return Device.objects.for_actor(actor).filter(community=community).select_related(*_ROW_RELATED)


def public_devices(*, actor, community):
    """The Public Area node's Intercom Devices."""
    return (
        Device.objects.for_actor(actor)
        .filter(community=community, place=Place.PUBLIC)
        .select_related(*_ROW_RELATED)
    )


def building_devices(*, actor, building):
    """The building node's Intercom Devices: the building's own, not its apartments' devices."""
    return (
        Device.objects.for_actor(actor)
        .filter(building=building, place=Place.BUILDING)
        .select_related(*_ROW_RELATED)
    )


def device_detail(*, actor, pk: int, action: str = roles.VIEW):
    """One device with everything its info page and its Edit Device dialog show, in three queries."""
    return (
        Device.objects.for_actor(actor, action)
        .filter(pk=pk)
        .select_related(*_ROW_RELATED, "community__installer__distributor")
        .prefetch_related(
            Prefetch("relays", queryset=Relay.objects.order_by("kind", "index")),
            Prefetch("buildings", queryset=Building.objects.order_by("name", "pk")),
        )
    )


def linkable_devices(*, actor, camera):
    """What a camera of this place may link to: the actor's R29 door phones of the same place."""
    from .services import LINKABLE_MODEL_Q

    qs = Device.objects.for_actor(actor).filter(
        LINKABLE_MODEL_Q,
        community_id=camera.community_id,
        place=camera.place,
        device_type__in=list(DOOR_PHONES),
    )
    if camera.place == Place.BUILDING:
        qs = qs.filter(building_id=camera.building_id)
    elif camera.place == Place.APARTMENT:
        qs = qs.filter(apartment_id=camera.apartment_id)
    return qs.order_by("name", "pk")
