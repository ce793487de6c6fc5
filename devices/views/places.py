"""The Public Area and building nodes of the Resident and Device tree, for the device and camera lists."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import translation

from communities.models import Building, Community

from ..choices import Place


def list_url(placed, kind: str) -> str:
    """Where a device ("devices") or camera ("cameras") is listed: its tab, or its apartment's page."""
    if placed.place == Place.APARTMENT:
        return reverse("residents:apartment_detail", args=[placed.apartment_id])
    if placed.place == Place.BUILDING:
        return reverse(f"devices:building_{kind}", args=[placed.building_id])
    return reverse(f"devices:public_{kind}", args=[placed.community_id])


class PublicNodeMixin:
    """A list under the Public Area node: the community comes from the URL, scoped to the actor."""

    node = "public"
    building = None
    tab_label = ""

    def get(self, request, *args, **kwargs):
        self.community = get_object_or_404(
            Community.objects.for_actor(request.actor), pk=kwargs["community_pk"]
        )
        return super().get(request, *args, **kwargs)

    def get_add_url(self) -> str:
        return reverse(self.add_url_name, args=[self.community.pk])

    def get_breadcrumbs(self):
        return self.crumbs(self.community, (Place.PUBLIC.label, None), (self.tab_label, None))

    def get_export_name(self) -> str:
        # Exports keep English names, as their headers do.
        with translation.override(settings.LANGUAGE_CODE):
            return f"{Place.PUBLIC.label} {self.tab_label}"


class BuildingNodeMixin:
    """A list under a building node: the building (and its community) scoped to the actor."""

    node = "building"
    tab_label = ""

    def get(self, request, *args, **kwargs):
        self.building = get_object_or_404(
            Building.objects.for_actor(request.actor).select_related("community"), pk=kwargs["building_pk"]
        )
        self.community = self.building.community
        return super().get(request, *args, **kwargs)

    def get_add_url(self) -> str:
        return reverse(self.add_url_name, args=[self.building.pk])

    def get_breadcrumbs(self):
        url = reverse("residents:building_apartments", args=[self.building.pk])
        return self.crumbs(self.community, (self.building.name, url), (self.tab_label, None))

    def get_export_name(self) -> str:
        with translation.override(settings.LANGUAGE_CODE):
            return str(self.tab_label)
