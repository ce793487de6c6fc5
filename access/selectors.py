"""Reads of credentials, from the actor's rows."""

from __future__ import annotations

from smartplus import authz, roles

from .models import Credential, DeviceUsers


def _rows(actor):
    return Credential.objects.for_actor(actor).select_related("resident", "apartment")


def community_credentials(*, actor, community):
    return _rows(actor).filter(community=community)


def apartment_credentials(*, actor, apartment):
    return _rows(actor).filter(apartment=apartment)


def device_users_state(*, actor, device) -> DeviceUsers | None:
    """The device page's credential versions: wanted and acknowledged."""
    if not authz.can(actor, roles.VIEW, DeviceUsers):
        return None
    return DeviceUsers.objects.for_actor(actor).filter(device=device).first()
