"""Reads of the firmware catalogue; each takes the actor and starts from its scope."""

from __future__ import annotations

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


def upgrade_devices(*, actor, model: str):
    """The devices of `model` across the actor's communities that an upgrade may pick."""
    return (
        Device.objects.for_actor(actor, roles.CHANGE)
        .filter(model=model)
        .select_related("community", "mac_address", "building", "apartment")
        .order_by("community__name", "name", "pk")
    )
