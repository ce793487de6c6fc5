"""Third-party cameras: lists per place, Add/Edit Camera, delete."""

from __future__ import annotations

from smartplus.views import generic

from ..models import ThirdPartyCamera


class _Todo(generic.PortalView):
    model = ThirdPartyCamera


PublicCamerasView = BuildingCamerasView = CameraEditView = CameraDeleteView = _Todo
