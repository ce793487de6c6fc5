"""Intercom devices: lists per place and at community level, Add/Edit Device, info, delete."""

from __future__ import annotations

from smartplus.views import generic

from ..models import Device


class _Todo(generic.PortalView):
    model = Device


CommunityDevicesView = PublicDevicesView = BuildingDevicesView = DeviceEditView = _Todo
DeviceDetailView = DeviceDeleteView = _Todo
