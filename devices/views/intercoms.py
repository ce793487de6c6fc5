"""Intercom devices: lists per place and at community level, Add/Edit Device, info, delete."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Community
from residents.models import Apartment
from residents.views import CommunityPageMixin
from smartplus import roles
from smartplus.pagination import FastPaginator
from smartplus.views import generic

from .. import hooks, maintenance, selectors, services
from ..choices import Place, RelayKind
from ..filters import DeviceFilterSet
from ..forms import DeviceForm
from ..models import Device, DeviceCommand, RegistrationRequest
from ..tables import CommunityDeviceTable, DeviceTable
from . import places
from .places import BuildingNodeMixin, PublicNodeMixin

PAGE_TITLE = _("Resident and Device")


def place_list_url(device: Device) -> str:
    """The list the device is shown in: its place's Intercom Devices, or its apartment's page."""
    return places.list_url(device, "devices")


def _permissions(actor) -> dict:
    return {
        "can_add_device": roles.allows(actor, Device, roles.ADD),
        "can_change_device": roles.allows(actor, Device, roles.CHANGE),
        "can_delete_device": roles.allows(actor, Device, roles.DELETE),
    }


# --- lists -------------------------------------------------------------------------------------


class _DeviceListView(CommunityPageMixin, generic.ObjectListView):
    model = Device
    table_class = DeviceTable
    title = PAGE_TITLE

    def get_table(self, queryset):
        return self.table_class(queryset, community=self.community)

    def get_extra_context(self) -> dict:
        context = self.page_context(self.community, getattr(self, "building", None))
        return {**context, **_permissions(self.request.actor)}


class CommunityDevicesView(_DeviceListView):
    """Community node, Intercom Devices tab: search, sort and manage every device of the community."""

    table_class = CommunityDeviceTable
    filterset_class = DeviceFilterSet
    template_name = "devices/community_devices.html"
    export_name = "Intercom Devices"  # exports keep English names, as their headers do

    def get(self, request, *args, **kwargs):
        self.community = get_object_or_404(
            Community.objects.for_actor(request.actor), pk=kwargs["community_pk"]
        )
        return super().get(request, *args, **kwargs)

    def get_table_queryset(self):
        return selectors.community_devices(actor=self.request.actor, community=self.community)

    def get_pagination(self, filterset) -> dict:
        # Unfiltered, "N In All" is the community's stored Device Count: no COUNT(*) per page.
        known = None if filterset.is_filtered else self.community.device_count
        return {"paginator_class": FastPaginator, "count": known}

    def get_breadcrumbs(self):
        return self.crumbs(self.community, (_("Intercom Devices"), None))


class PublicDevicesView(PublicNodeMixin, _DeviceListView):
    """Public Area node, Intercom Devices tab."""

    template_name = "devices/public_devices.html"
    add_url_name = "devices:public_device_add"
    tab_label = _("Intercom Devices")

    def get_table_queryset(self):
        return selectors.public_devices(actor=self.request.actor, community=self.community)

    def get_pagination(self, filterset) -> dict:
        return {"paginator_class": FastPaginator}


class BuildingDevicesView(BuildingNodeMixin, _DeviceListView):
    """Building node, Intercom Devices tab: the building's own devices."""

    template_name = "devices/building_devices.html"
    add_url_name = "devices:building_device_add"
    tab_label = _("Intercom Devices")

    def get_table_queryset(self):
        return selectors.building_devices(actor=self.request.actor, building=self.building)

    def get_pagination(self, filterset) -> dict:
        return {"paginator_class": FastPaginator}


# --- one device --------------------------------------------------------------------------------


class DeviceEditView(generic.ObjectEditView):
    """Add Device to the public area, a building or an apartment; or Edit Device, wherever it is."""

    model = Device
    template_name = "devices/device_edit.html"
    modal_template_name = "devices/device_edit_modal.html"
    success_message = _("Device {object.name} saved.")

    @property
    def title(self):
        return _("Edit Device") if self.action == roles.CHANGE else _("Add Device")

    def get_instance(self):
        actor = self.request.actor
        self.building = self.apartment = None
        if self.action == roles.CHANGE:
            device = get_object_or_404(
                selectors.device_detail(actor=actor, pk=self.kwargs["pk"], action=self.action)
            )
            self.place, self.community = device.place, device.community
            self.building, self.apartment = device.building, device.apartment
            return device
        if "apartment_pk" in self.kwargs:
            self.place = Place.APARTMENT
            self.apartment = get_object_or_404(
                Apartment.objects.for_actor(actor).select_related(
                    "building", "community__installer__distributor"
                ),
                pk=self.kwargs["apartment_pk"],
            )
            self.building, self.community = self.apartment.building, self.apartment.community
        elif "building_pk" in self.kwargs:
            self.place = Place.BUILDING
            self.building = get_object_or_404(
                Building.objects.for_actor(actor).select_related("community__installer__distributor"),
                pk=self.kwargs["building_pk"],
            )
            self.community = self.building.community
        else:
            self.place = Place.PUBLIC
            self.community = get_object_or_404(
                Community.objects.for_actor(actor).select_related("installer__distributor"),
                pk=self.kwargs["community_pk"],
            )
        return None

    def get_form(self, data=None):
        return DeviceForm(
            data=data,
            actor=self.request.actor,
            instance=self.object,
            place=self.place,
            community=self.community,
            offline=services.offline_solution_enabled(self.community),
        )

    def save(self, form):
        actor = self.request.actor
        common = {
            "mac": form.cleaned_data["mac"],
            "fields": form.device_fields(),
            "relays": form.relay_list(),
            "security_relay": form.security_relay_data(),
            "buildings": form.chosen_buildings(),
        }
        if self.object is None:
            return services.device_create(
                actor=actor,
                community=self.community,
                building=self.building,
                apartment=self.apartment,
                **common,
            )
        return services.device_update(actor=actor, device=self.object, **common)

    def get_success_url(self, obj):
        return generic.safe_next(self.request, place_list_url(obj))

    def get_breadcrumbs(self):
        community = self.community
        crumbs = [
            (community.name, reverse("residents:community_residents", args=[community.pk])),
            (PAGE_TITLE, None),
        ]
        if self.place == Place.PUBLIC:
            crumbs.append((Place.PUBLIC.label, reverse("devices:public_devices", args=[community.pk])))
        else:
            crumbs.append((self.building.name, reverse("devices:building_devices", args=[self.building.pk])))
        if self.place == Place.APARTMENT:
            url = reverse("residents:apartment_detail", args=[self.apartment.pk])
            crumbs.append((gettext("APT %(number)s") % {"number": self.apartment.number}, url))
        if self.object is not None:
            crumbs.append((self.object.name, reverse("devices:device_detail", args=[self.object.pk])))
        return [*crumbs, (self.title, None)]

    def get_extra_context(self) -> dict:
        # A new device is not saved yet: an unsaved one at the same place names it and its list.
        placed = self.object or Device(
            community=self.community, place=self.place, building=self.building, apartment=self.apartment
        )
        return {
            "community": self.community,
            "place": self.place,
            "place_label": placed.location,
            "cancel_url": place_list_url(placed),
            "can_delete": self.object is not None and roles.allows(self.request.actor, Device, roles.DELETE),
        }


class DeviceDetailView(CommunityPageMixin, generic.ObjectDetailView):
    """The device's info: every setting, its relays, and Edit / Delete for the roles that may."""

    model = Device
    template_name = "devices/device_detail.html"

    def get_object(self):
        return get_object_or_404(selectors.device_detail(actor=self.request.actor, pk=self.kwargs["pk"]))

    @property
    def node(self):
        return "public" if self.object.place == Place.PUBLIC else "building"

    @property
    def title(self):
        return self.object.name

    def get_breadcrumbs(self):
        device = self.object
        if device.place == Place.PUBLIC:
            more = [(Place.PUBLIC.label, reverse("devices:public_devices", args=[device.community_id]))]
        else:
            more = [(device.building.name, reverse("devices:building_devices", args=[device.building_id]))]
            if device.place == Place.APARTMENT:
                url = reverse("residents:apartment_detail", args=[device.apartment_id])
                more.append((gettext("APT %(number)s") % {"number": device.apartment.number}, url))
        return self.crumbs(device.community, *more, (device.name, None))

    def get_extra_context(self) -> dict:
        device = self.object
        actor = self.request.actor
        relays = list(device.relays.all())
        # Remote Maintenance: one query for the latest operations, whatever their number.
        can_view_commands = roles.allows(actor, DeviceCommand, roles.VIEW)
        commands = (
            list(maintenance.recent_commands(actor=actor, device=device).select_related("requested_by"))
            if can_view_commands
            else []
        )
        return {
            **self.page_context(device.community, device.building),
            **_permissions(self.request.actor),
            "relays": [r for r in relays if r.kind == RelayKind.RELAY],
            "security_relay": next((r for r in relays if r.kind == RelayKind.SECURITY), None),
            "chosen_buildings": list(device.buildings.all()) if not device.all_buildings else [],
            "offline": services.offline_solution_enabled(device.community),
            "access_method_note": services.access_method_note(device),
            "list_url": place_list_url(device),
            "can_view_commands": can_view_commands,
            "commands": commands,
            "panels": hooks.panels(actor, device),
            "can_maintain_device": roles.allows(actor, DeviceCommand, roles.ADD)
            and roles.allows(actor, Device, roles.CHANGE),
            **self._registration(device),
        }

    def _registration(self, device) -> dict:
        """First contact: where the device's registration stands and who asks to register."""
        actor = self.request.actor
        if not roles.allows(actor, RegistrationRequest, roles.VIEW):
            return {}
        requests = list(RegistrationRequest.objects.for_actor(actor).filter(device=device))
        return {
            "registration_requests": requests,
            "can_adopt": roles.allows(actor, RegistrationRequest, roles.CHANGE)
            and roles.allows(actor, Device, roles.CHANGE),
            "can_view_registration": True,
        }


class DeviceDeleteView(generic.ObjectDeleteView):
    model = Device
    title = _("Delete Device")

    def get_object(self):
        device = get_object_or_404(
            self.get_queryset().select_related("mac_address", "building", "apartment", "community"),
            pk=self.kwargs["pk"],
        )
        self.list_url = place_list_url(device)
        return device

    def deletion_summary(self, obj):
        return services.device_deletion_summary(device=obj)

    def refusal(self, obj):
        # The last indoor monitor of a Basic-plan apartment: said before the click.
        return services.device_delete_refusal(obj)

    def delete(self, obj):
        services.device_delete(actor=self.request.actor, device=obj)

    def get_success_url(self):
        return generic.safe_next(self.request, self.list_url)
