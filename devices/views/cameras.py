"""Third-party cameras: lists per place, Add/Edit Camera, delete."""

from __future__ import annotations

from smartplus.views import generic

from ..models import ThirdPartyCamera


class _Todo(generic.PortalView):
    model = ThirdPartyCamera


PublicCamerasView = BuildingCamerasView = CameraEditView = CameraDeleteView = _Todo


def apartment_cameras_context(*, actor, apartment) -> dict:
    """The apartment page's Third Party Devices section (templates/devices/_apartment_cameras.html)."""
    return {}
