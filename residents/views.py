"""The Resident and Device page (tree + tabs), apartments, family members and the resident search."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Community
from smartplus import authz, roles
from smartplus.pagination import FastPaginator
from smartplus.views import generic

from . import hooks, selectors, services
from .filters import ResidentFilterSet
from .forms import ApartmentForm, FamilyMemberForm, calling_codes_json
from .models import Apartment, Resident
from .tables import ApartmentTable, ResidentTable

PAGE_TITLE = _("Resident and Device")


class CommunityPageMixin:
    """Tree (Community, Public Area, buildings) and breadcrumbs of one community's page."""

    node = "community"

    def page_context(self, community: Community, building: Building | None = None) -> dict:
        actor = self.request.actor
        return {
            "community": community,
            "buildings": selectors.buildings_of(actor=actor, community=community),
            "node": self.node,
            "current_building": building,
            "can_add_building": roles.allows(actor, Building, roles.ADD),
            "can_change_building": roles.allows(actor, Building, roles.CHANGE),
            "can_delete_building": roles.allows(actor, Building, roles.DELETE),
            "can_change_apartment": roles.allows(actor, Apartment, roles.CHANGE),
            "can_change_resident": roles.allows(actor, Resident, roles.CHANGE),
            "can_delete_end_users": authz.can(actor, roles.DELETE, Resident, parent=community),
        }

    def get_export_filename_parts(self) -> list[str]:
        # "alpha-gardens-block-a-apt-…": the title alone is the page's, "Resident and Device".
        building = getattr(self, "building", None)
        return [self.community.name, building.name if building else "", self.get_export_name()]

    def crumbs(self, community: Community, *more) -> list[tuple[str, str | None]]:
        return [
            (community.name, reverse("residents:community_residents", args=[community.pk])),
            (PAGE_TITLE, None),
            *more,
        ]


def _community_for(request, pk: int) -> Community:
    return get_object_or_404(Community.objects.for_actor(request.actor), pk=pk)


class CommunityResidentsView(CommunityPageMixin, generic.ObjectListView):
    """Community node, Residents tab: the resident search at community level."""

    model = Resident
    table_class = ResidentTable
    filterset_class = ResidentFilterSet
    template_name = "residents/community_residents.html"
    title = PAGE_TITLE
    export_name = "Residents"

    def get(self, request, *args, **kwargs):
        self.community = _community_for(request, kwargs["community_pk"])
        return super().get(request, *args, **kwargs)

    def get_table_queryset(self):
        return selectors.resident_search(actor=self.request.actor, community=self.community)

    def get_table(self, queryset):
        return self.table_class(queryset, community=self.community)

    def get_pagination(self, filterset) -> dict:
        # Unfiltered, "N In All" is the community's stored End User Count: no COUNT(*) per page.
        known = None if filterset.is_filtered else self.community.end_user_count
        return {"paginator_class": FastPaginator, "count": known}

    def get_breadcrumbs(self):
        return self.crumbs(self.community)

    def get_extra_context(self) -> dict:
        return self.page_context(self.community)


class BuildingApartmentsView(CommunityPageMixin, generic.ObjectListView):
    """Building node, APT tab: the building's apartments with the spec's columns."""

    model = Apartment
    table_class = ApartmentTable
    template_name = "residents/building_apartments.html"
    add_url_name = "residents:apartment_add"
    node = "building"
    title = PAGE_TITLE
    export_name = "APT"

    def get(self, request, *args, **kwargs):
        self.building = get_object_or_404(
            Building.objects.for_actor(request.actor).select_related("community"), pk=kwargs["building_pk"]
        )
        self.community = self.building.community
        return super().get(request, *args, **kwargs)

    def get_table_queryset(self):
        return selectors.apartment_list(actor=self.request.actor, building=self.building)

    def get_table(self, queryset):
        return self.table_class(queryset, community=self.community)

    def get_pagination(self, filterset) -> dict:
        # Count on the building index alone: the family-master join cannot add rows (one master
        # per APT at most), and counting through it would scan the whole community's residents.
        count = Apartment.objects.for_actor(self.request.actor).filter(building=self.building).count()
        return {"paginator_class": FastPaginator, "count": count}

    def get_add_url(self) -> str:
        return reverse(self.add_url_name, args=[self.building.pk])

    def get_breadcrumbs(self):
        return self.crumbs(self.community, (self.building.name, None))

    def get_extra_context(self) -> dict:
        return self.page_context(self.community, self.building)


# --- apartments ------------------------------------------------------------------------------


class ApartmentEditView(generic.ObjectEditView):
    """Add APT under a building, or Edit APT (apartment and family master)."""

    model = Apartment
    template_name = "residents/apartment_edit.html"
    modal_template_name = "residents/apartment_edit_modal.html"
    success_message = _("APT {object.number} saved.")

    @property
    def title(self):
        return _("Edit APT") if self.action == roles.CHANGE else _("Add APT")

    def get_instance(self):
        if self.action == roles.CHANGE:
            apartment = get_object_or_404(
                selectors.apartment_detail(actor=self.request.actor, pk=self.kwargs["pk"])
            )
            self.building = apartment.building
        else:
            apartment = None
            self.building = get_object_or_404(
                Building.objects.for_actor(self.request.actor).select_related("community"),
                pk=self.kwargs["building_pk"],
            )
        self.master = selectors.family_of(apartment=apartment)[0] if apartment else None
        return apartment

    def get_form(self, data=None):
        # Another dialog for some communities' Add APT (Basic: with the indoor monitor).
        self.dialog = None if self.object is not None else hooks.apartment_add_dialog(self.building.community)
        form_class = self.dialog.form_class if self.dialog is not None else ApartmentForm
        return form_class(
            data=data,
            actor=self.request.actor,
            instance=self.object,
            community=self.building.community,
            master=self.master,
        )

    def save(self, form):
        resident = form.resident_data() if form.adds_resident() else None
        if self.object is None and self.dialog is not None:
            return self.dialog.create(actor=self.request.actor, building=self.building, form=form)
        if self.object is None:
            return services.apartment_create(
                actor=self.request.actor,
                building=self.building,
                apartment=form.apartment_data(),
                resident=resident,
            )
        return services.apartment_update(
            actor=self.request.actor,
            apartment=self.object,
            building=form.cleaned_data["building"],
            fields=form.apartment_data(),
            resident=resident,
        )

    def get_success_url(self, obj):
        return generic.safe_next(self.request, reverse("residents:apartment_detail", args=[obj.pk]))

    def get_extra_context(self) -> dict:
        actor = self.request.actor
        return {
            "calling_codes": calling_codes_json(),
            "building": self.building,
            "can_delete": self.object is not None and roles.allows(actor, Apartment, roles.DELETE),
            "can_reset": self.object is not None and authz.can(actor, "reset", self.object),
            "can_reset_password": self.object is not None and roles.allows(actor, Resident, roles.CHANGE),
        }


class ApartmentDetailView(CommunityPageMixin, generic.ObjectDetailView):
    model = Apartment
    template_name = "residents/apartment_detail.html"
    node = "building"

    def get_object(self):
        return get_object_or_404(selectors.apartment_detail(actor=self.request.actor, pk=self.kwargs["pk"]))

    @property
    def title(self):
        return gettext("APT %(number)s") % {"number": self.object.number}

    def get_breadcrumbs(self):
        apt = self.object
        building_url = reverse("residents:building_apartments", args=[apt.building_id])
        return self.crumbs(
            apt.community,
            (apt.building.name, building_url),
            (gettext("APT %(number)s") % {"number": apt.number}, None),
        )

    def get_extra_context(self) -> dict:
        actor = self.request.actor
        apt = self.object
        master, members = selectors.family_of(apartment=apt)
        panels = {}
        for hook in hooks.apartment_panels:  # its devices and cameras
            panels.update(hook(actor, apt))
        return {
            **panels,
            **self.page_context(apt.community, apt.building),
            "master": master,
            "members": members,
            "can_change": roles.allows(actor, Apartment, roles.CHANGE),
            "can_delete": roles.allows(actor, Apartment, roles.DELETE),
            "can_reset": authz.can(actor, "reset", apt),
            "can_add_member": master is not None and roles.allows(actor, Resident, roles.ADD),
            "can_change_member": roles.allows(actor, Resident, roles.CHANGE),
            "can_delete_member": authz.can(actor, roles.DELETE, Resident, parent=apt.community),
        }


class ApartmentDeleteView(generic.ObjectDeleteView):
    model = Apartment
    title = _("Delete APT")

    def deletion_summary(self, obj):
        return services.apartment_deletion_summary(apartment=obj)

    def delete(self, obj):
        services.apartment_delete(actor=self.request.actor, apartment=obj)

    def get_success_url(self):
        return reverse("residents:building_apartments", args=[self.building_pk])

    def get_object(self):
        obj = super().get_object()
        self.building_pk = obj.building_id
        return obj


class ApartmentResetView(generic.ObjectMixin, generic.PortalView):
    """Confirm, then reset the apartment for new tenants (the spec's removed/kept lists)."""

    model = Apartment
    action = "reset"
    title = _("Reset APT")

    def get_object(self):
        apartment = super().get_object()
        # Reset deletes family-member accounts: a property manager needs Delete Account Permission.
        authz.authorize(self.request.actor, "reset", apartment)
        return apartment

    def get(self, request, *args, **kwargs):
        apartment = self.get_object()
        template = (
            "residents/apartment_reset_modal.html" if request.htmx else "residents/apartment_reset.html"
        )
        return self.render(template, {"object": apartment, "form_action": request.get_full_path()})

    def post(self, request, *args, **kwargs):
        apartment = self.get_object()
        with transaction.atomic():
            services.apartment_reset(actor=request.actor, apartment=apartment)
        messages.success(
            request,
            gettext(
                "APT %(number)s was reset. The app is unregistered and its login was reset; "
                "no email was sent."
            )
            % {"number": apartment.number},
        )
        return generic.redirect_after(request, reverse("residents:apartment_detail", args=[apartment.pk]))


class ApartmentPasswordResetView(generic.ObjectMixin, generic.PortalView):
    """Edit APT's Reset Password: confirm, then the family master gets a new app password by email."""

    model = Apartment
    action = roles.CHANGE
    title = _("Reset Password")

    def get(self, request, *args, **kwargs):
        apartment = self.get_object()
        master = apartment.residents.filter(family_master__isnull=True).first()
        template = (
            "residents/apartment_password_reset_modal.html"
            if request.htmx
            else "residents/apartment_password_reset.html"
        )
        context = {
            "object": apartment,
            "master": master,
            "refusal": services.resident_app_password_reset_refusal(master),
            "form_action": request.get_full_path(),
        }
        return self.render(template, context)

    def post(self, request, *args, **kwargs):
        apartment = self.get_object()
        try:
            master = services.resident_app_password_reset(actor=request.actor, apartment_id=apartment.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                gettext("A new SmartPlus app password is on its way to %(email)s.") % {"email": master.email},
            )
        return generic.redirect_after(request, reverse("residents:apartment_detail", args=[apartment.pk]))


# --- family members and end users --------------------------------------------------------------


class FamilyMemberEditView(generic.ObjectEditView):
    model = Resident
    form_class = FamilyMemberForm
    template_name = "residents/familymember_edit.html"
    modal_template_name = "residents/familymember_edit_modal.html"
    success_message = _("Family member {object} saved.")

    @property
    def title(self):
        return _("Edit Family Member") if self.action == roles.CHANGE else _("New Family Member")

    def get_queryset(self):
        return super().get_queryset().filter(family_master__isnull=False).select_related("apartment")

    def get_instance(self):
        if self.action == roles.CHANGE:
            member = self.get_object()
            self.apartment = member.apartment
            return member
        self.apartment = get_object_or_404(
            Apartment.objects.for_actor(self.request.actor), pk=self.kwargs["apartment_pk"]
        )
        return None

    def save(self, form):
        if self.object is None:
            return services.family_member_create(
                actor=self.request.actor, apartment=self.apartment, fields=form.resident_data()
            )
        return services.family_member_update(
            actor=self.request.actor, member=self.object, fields=form.resident_data()
        )

    def get_success_url(self, obj):
        return generic.safe_next(
            self.request, reverse("residents:apartment_detail", args=[self.apartment.pk])
        )

    def get_extra_context(self) -> dict:
        return {"calling_codes": calling_codes_json(), "apartment": self.apartment}


class ResidentDeleteView(generic.ObjectDeleteView):
    """Delete an end user; a family master takes the family members along, the APT stays."""

    model = Resident
    title = _("Delete Resident")

    def get_object(self):
        resident = get_object_or_404(self.get_queryset().select_related("apartment"), pk=self.kwargs["pk"])
        authz.authorize(self.request.actor, roles.DELETE, resident)
        self.apartment_pk = resident.apartment_id
        return resident

    def deletion_summary(self, obj):
        return services.resident_deletion_summary(resident=obj)

    def delete(self, obj):
        services.resident_delete(actor=self.request.actor, resident=obj)

    def get_success_url(self):
        return generic.safe_next(
            self.request, reverse("residents:apartment_detail", args=[self.apartment_pk])
        )
