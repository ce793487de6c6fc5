"""Intercom device lists: a place's devices (public area, building) and the community's search."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from residents.tables import CommunityTable
from smartplus.tables import ActionsColumn, PortalTable

from .choices import DeviceStatus
from .models import Device

STATUS_BADGE = {DeviceStatus.ONLINE: "text-bg-success", DeviceStatus.OFFLINE: "text-bg-secondary"}


def status_badge(device: Device) -> str:
    return format_html(
        '<span class="badge {}" data-testid="device-status">{}</span>',
        STATUS_BADGE[device.status],
        device.get_status_display(),
    )


class DeviceTable(CommunityTable):
    """The Intercom Devices tab of the Public Area and of a building (the spec's columns)."""

    mac = tables.Column(verbose_name=_("MAC"), accessor="mac_address__mac", orderable=False)
    name = tables.Column(verbose_name=_("Device Name"), order_by=("name", "id"))
    device_type = tables.Column(verbose_name=_("Device Type"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), accessor="pk", orderable=False)
    created = tables.Column(verbose_name=_("Binding Time"), order_by=("created", "id"))
    actions = ActionsColumn("devices/device_actions.html")

    class Meta(PortalTable.Meta):
        model = Device
        fields = ("mac", "name", "device_type", "status", "created", "actions")
        order_by = "name"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "device-table"}

    def render_device_type(self, record):
        return record.get_device_type_display()

    def render_status(self, record):
        return status_badge(record)

    def value_status(self, record):
        return record.get_status_display()

    def render_created(self, value):
        return self.when(value)


class CommunityDeviceTable(DeviceTable):
    """The community node's Intercom Devices: every device, with its Location."""

    location = tables.Column(verbose_name=_("Location"), accessor="place", orderable=False)
    created = tables.Column(verbose_name=_("Created Time"), order_by=("created", "id"))

    class Meta(DeviceTable.Meta):
        fields = ("mac", "name", "device_type", "location", "status", "created", "actions")
        sequence = ("mac", "name", "device_type", "location", "status", "created", "actions")

    def render_location(self, record):
        return record.location
