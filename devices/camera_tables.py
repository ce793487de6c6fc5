"""The Third Party Devices lists: the Public Area's and a building's (the spec's columns), and the
community node's, which adds each camera's Location.

The RTSP address stays out of lists (only the Edit Camera dialog shows it); the password never
appears anywhere.
"""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from communities.formatting import EMPTY
from residents.tables import CommunityTable
from smartplus.tables import ActionsColumn, PortalTable

from .models import ThirdPartyCamera


class CameraTable(CommunityTable):
    name = tables.Column(verbose_name=_("Device Name"), order_by=("name", "id"))
    linked = tables.Column(verbose_name=_("Link Device"), accessor="pk", orderable=False)
    created = tables.Column(verbose_name=_("Created Time"), order_by=("created", "id"))
    actions = ActionsColumn("devices/camera_actions.html", verbose_name=_("Action"))

    class Meta(PortalTable.Meta):
        model = ThirdPartyCamera
        fields = ("name", "linked", "created", "actions")
        attrs = {**PortalTable.Meta.attrs, "data-testid": "camera-table"}

    def render_linked(self, record):
        # Prefetched by the selectors: no query per row.
        names = [d.name for d in record.linked_devices.all()]
        return ", ".join(names) or EMPTY

    def value_linked(self, record):
        return ", ".join(d.name for d in record.linked_devices.all()) or None

    def render_created(self, value):
        return self.when(value)


class CommunityCameraTable(CameraTable):
    """The community node's Third Party Devices: every camera, with its Location."""

    location = tables.Column(verbose_name=_("Location"), accessor="place", orderable=False)

    class Meta(CameraTable.Meta):
        fields = ("name", "location", "linked", "created", "actions")
        sequence = ("name", "location", "linked", "created", "actions")

    def render_location(self, record):
        return record.location

    def value_location(self, record):
        return record.location
