"""Third-party cameras: lists per place, Add/Edit Camera, delete."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from communities.models import Building, Community
from residents.models import Apartment
from residents.views import CommunityPageMixin
from smartplus import roles
from smartplus.views import generic

from .. import selectors, services
from ..camera_forms import CameraForm
from ..camera_tables import CameraTable, CommunityCameraTable
from ..choices import Place
from ..filters import CameraFilterSet
from ..models import ThirdPartyCamera
from . import places
from .places import BuildingNodeMixin, PublicNodeMixin

PAGE_TITLE = _("Resident and Device")


def camera_list_url(camera: ThirdPartyCamera) -> str:
    """Where a camera is listed: its place's Third Party Devices, or its apartment's page."""
    return places.list_url(camera, "cameras")


# --- lists -------------------------------------------------------------------------------------


class _CameraListView(CommunityPageMixin, generic.ObjectListView):
    model = ThirdPartyCamera
    table_class = CameraTable
    template_name = "devices/camera_list.html"
    title = PAGE_TITLE

    def get_table(self, queryset):
        return self.table_class(queryset, community=self.community)

    def get_extra_context(self) -> dict:
        return {**self.page_context(self.community, self.building), "tab": "cameras"}


class CommunityCamerasView(_CameraListView):
    """Community node, Third Party Devices tab: every camera of the community, searchable."""

    table_class = CommunityCameraTable
    filterset_class = CameraFilterSet
    template_name = "devices/community_cameras.html"
    export_name = "Third Party Devices"  # exports keep English names, as their headers do
    building = None

    def get(self, request, *args, **kwargs):
        self.community = get_object_or_404(
            Community.objects.for_actor(request.actor), pk=kwargs["community_pk"]
        )
        return super().get(request, *args, **kwargs)

    def get_table_queryset(self):
        return selectors.community_cameras(actor=self.request.actor, community=self.community)

    def get_breadcrumbs(self):
        return self.crumbs(self.community, (_("Third Party Devices"), None))


class PublicCamerasView(PublicNodeMixin, _CameraListView):
    """Public Area node, Third Party Devices tab."""

    add_url_name = "devices:public_camera_add"
    tab_label = _("Third Party Devices")

    def get_table_queryset(self):
        return selectors.public_cameras(actor=self.request.actor, community=self.community)


class BuildingCamerasView(BuildingNodeMixin, _CameraListView):
    """Building node, Third Party Devices tab: the building's own cameras."""

    add_url_name = "devices:building_camera_add"
    tab_label = _("Third Party Devices")

    def get_table_queryset(self):
        return selectors.building_cameras(actor=self.request.actor, building=self.building)


# --- Add / Edit Camera ---------------------------------------------------------------------------


# The typed password is masked in Django's error reports (the page itself never echoes it).
@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class CameraEditView(generic.ObjectEditView):
    """Add Camera to the public area, a building or an apartment; or Edit Camera wherever it is."""

    model = ThirdPartyCamera
    template_name = "devices/camera_edit.html"
    modal_template_name = "devices/camera_edit_modal.html"
    success_message = _("Camera {object.name} saved.")

    @property
    def title(self):
        return _("Edit Camera") if self.action == roles.CHANGE else _("Add Camera")

    def get_queryset(self):
        return super().get_queryset().select_related("community", "building", "apartment")

    def get_instance(self):
        if self.action == roles.CHANGE:
            camera = self.get_object()
            self.community, self.building, self.apartment = (
                camera.community,
                camera.building,
                camera.apartment,
            )
            self.place_camera = camera
            return camera
        actor, kwargs = self.request.actor, self.kwargs
        self.building = self.apartment = None
        if "apartment_pk" in kwargs:
            self.apartment = get_object_or_404(
                Apartment.objects.for_actor(actor).select_related("building__community"),
                pk=kwargs["apartment_pk"],
            )
            self.building = self.apartment.building
            self.community = self.building.community
        elif "building_pk" in kwargs:
            self.building = get_object_or_404(
                Building.objects.for_actor(actor).select_related("community"), pk=kwargs["building_pk"]
            )
            self.community = self.building.community
        else:
            self.community = get_object_or_404(Community.objects.for_actor(actor), pk=kwargs["community_pk"])
        place = Place.APARTMENT if self.apartment else Place.BUILDING if self.building else Place.PUBLIC
        # Unsaved: tells the form which door phones the new camera's place offers.
        self.place_camera = ThirdPartyCamera(
            community=self.community, building=self.building, apartment=self.apartment, place=place
        )
        return None

    def get_form(self, data=None):
        return CameraForm(data=data, actor=self.request.actor, instance=self.object, camera=self.place_camera)

    def save(self, form):
        linked = list(form.cleaned_data["linked_devices"])
        if self.object is None:
            return services.camera_create(
                actor=self.request.actor,
                community=self.community,
                building=self.building,
                apartment=self.apartment,
                fields=form.camera_fields(),
                password=form.cleaned_data["password"],
                linked_devices=linked,
            )
        return services.camera_update(
            actor=self.request.actor,
            camera=self.object,
            fields=form.camera_fields(),
            # Blank keeps the stored password.
            password=form.cleaned_data["password"] or None,
            linked_devices=linked,
        )

    def get_success_url(self, obj):
        return generic.safe_next(self.request, camera_list_url(obj))

    def get_extra_context(self) -> dict:
        return {
            "community": self.community,
            "place_label": self.place_camera.location,
            "cancel_url": camera_list_url(self.place_camera),
            "can_delete": self.object is not None
            and roles.allows(self.request.actor, ThirdPartyCamera, roles.DELETE),
        }


class CameraDeleteView(generic.ObjectDeleteView):
    model = ThirdPartyCamera
    title = _("Delete Camera")

    def get_queryset(self):
        return super().get_queryset().select_related("building", "apartment")

    def get_object(self):
        camera = super().get_object()
        self.list_url = camera_list_url(camera)
        return camera

    def deletion_summary(self, obj):
        return selectors.camera_deletion_summary(camera=obj)

    def delete(self, obj):
        services.camera_delete(actor=self.request.actor, camera=obj)

    def get_success_url(self):
        return generic.safe_next(self.request, self.list_url)
