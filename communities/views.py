"""Dashboard and community views: declarations over smartplus.views.generic."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PropertyManager, PropertyManagerAssignment, SubAccount
from accounts.services import pm_assignments_set
from smartplus import roles
from smartplus.views import generic

from . import hooks, selectors, services
from .filters import CommunityFilterSet
from .forms import BuildingForm, CommunityDeleteForm, CommunityForm, PropertyManagerAssignmentForm
from .models import Building, Community
from .tables import CommunityTable, PropertyManagerTable, SubAccountTable


class DashboardView(generic.ObjectListView):
    """Community list, Property Manager List and Sub-account List, as on the spec's dashboard."""

    model = Community
    table_class = CommunityTable
    filterset_class = CommunityFilterSet
    template_name = "communities/dashboard.html"
    add_url_name = "communities:community_add"
    title = _("Dashboard")
    export_name = "Communities"  # the community table only, not the PM and sub-account tables

    def get_table_queryset(self):
        return selectors.community_list(actor=self.request.actor)

    def get_extra_context(self) -> dict:
        actor = self.request.actor
        # What the apps above add: pmportal's community cards and fleet overview.
        context = {"panels": hooks.dashboard(actor)}
        # The residents and devices template download (its model by label: communities sits below residents).
        if roles.allows(actor, "residents.residentimport", roles.ADD):
            context["template_url"] = reverse("devices:template")
        if roles.allows(actor, PropertyManager, roles.VIEW):
            pms = PropertyManager.objects.for_actor(actor).order_by("first_name", "last_name", "pk")
            context["pm_table"] = self.configure(PropertyManagerTable(pms), prefix="pm-")
            context["can_add_pm"] = roles.allows(actor, PropertyManager, roles.ADD)
        if roles.allows(actor, SubAccount, roles.VIEW):
            subs = SubAccount.objects.for_actor(actor)
            context["sub_table"] = self.configure(SubAccountTable(subs), prefix="sub-")
            context["can_add_sub"] = roles.allows(actor, SubAccount, roles.ADD)
        return context


class CommunityDetailView(generic.ObjectDetailView):
    model = Community
    template_name = "communities/community.html"

    def get_breadcrumbs(self):
        return [(self.object.name, None), (gettext("Community Info"), None)]

    def get_extra_context(self) -> dict:
        assignments = self.object.pm_assignments.select_related("property_manager")
        # Panels of the apps above communities (the weather its indoor monitors get).
        return {"assignments": assignments, "panels": hooks.panels(self.request.actor, self.object)}


class CommunityEditView(generic.ObjectEditView):
    model = Community
    form_class = CommunityForm
    template_name = "communities/community_edit.html"
    modal_template_name = "communities/community_edit_modal.html"
    success_message = _("Community “{object}” saved.")

    @property
    def title(self):
        return _("Edit Community") if self.action == roles.CHANGE else _("New Community")

    def get_form(self, data=None):
        return self.form_class(data=data, actor=self.request.actor, instance=self.object or Community())

    def save(self, form):
        if self.object is None:
            return services.community_create(actor=self.request.actor, **form.service_fields())
        return services.community_update(
            actor=self.request.actor, community=self.object, **form.service_fields()
        )

    def get_success_url(self, obj):
        return generic.safe_next(self.request, reverse("communities:dashboard"))

    def get_extra_context(self) -> dict:
        can_delete = self.object is not None and roles.allows(self.request.actor, Community, roles.DELETE)
        return {"can_delete": can_delete}


class CommunityDeleteView(generic.ObjectDeleteView):
    model = Community
    title = _("Delete Community")

    def deletion_summary(self, obj):
        return services.community_deletion_summary(community=obj)

    def get_confirm_form(self, obj, data=None):
        return CommunityDeleteForm(data=data, actor=self.request.actor, instance=obj)

    def delete(self, obj):
        services.community_delete(actor=self.request.actor, community=obj)

    def get_success_url(self):
        return reverse("communities:dashboard")


class CommunityPropertyManagersView(generic.ObjectMixin, generic.PortalView):
    """Assign property managers to a community and set their permissions."""

    model = PropertyManagerAssignment
    action = roles.CHANGE
    title = _("Property Manager")
    template_name = "communities/community_property_managers.html"
    modal_template_name = "communities/community_property_managers_modal.html"

    def get_queryset(self):
        return Community.objects.for_actor(self.request.actor, roles.VIEW)

    def render_form(self, form, status=200):
        template = self.modal_template_name if getattr(self.request, "htmx", False) else self.template_name
        return self.render(
            template,
            {
                "form": form,
                "object": self.object,
                "form_action": self.request.get_full_path(),
                "can_reset_app_password": roles.allows(
                    self.request.actor, PropertyManagerAssignment, "reset_app_password"
                ),
            },
            status=status,
        )

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_form(PropertyManagerAssignmentForm(actor=request.actor, instance=self.object))

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = PropertyManagerAssignmentForm(request.POST, actor=request.actor, instance=self.object)
        if form.is_valid():
            try:
                with transaction.atomic():
                    pm_assignments_set(actor=request.actor, community=self.object, rows=form.service_rows())
            except ValidationError as exc:
                generic.apply_errors(form, exc)
            else:
                messages.success(
                    request, gettext("Property managers of “%(name)s” saved.") % {"name": self.object}
                )
                return generic.redirect_after(request, reverse("communities:dashboard"))
        return self.render_form(form, status=200 if getattr(request, "htmx", False) else 422)


# --- buildings (the tree of the Resident and Device page) --------------------------------------


class BuildingEditView(generic.ObjectEditView):
    """+ Add Building (name prefilled "BuildingN") and rename (also from the tree's right-click)."""

    model = Building
    form_class = BuildingForm
    success_message = _("Building “{object}” saved.")

    @property
    def title(self):
        return _("Rename Building") if self.action == roles.CHANGE else _("Add Building")

    def get_instance(self):
        if self.action == roles.CHANGE:
            building = self.get_object()
            self.community = building.community
            return building
        self.community = get_object_or_404(
            Community.objects.for_actor(self.request.actor), pk=self.kwargs["community_pk"]
        )
        return None

    def get_form(self, data=None):
        instance = self.object or Building(community=self.community)
        form = self.form_class(data=data, actor=self.request.actor, instance=instance)
        if self.object is None and data is None:
            form.initial["name"] = services.default_building_name(community=self.community)
        return form

    def save(self, form):
        name = form.cleaned_data["name"]
        if self.object is None:
            return services.building_create(actor=self.request.actor, community=self.community, name=name)
        return services.building_rename(actor=self.request.actor, building=self.object, name=name)

    def get_success_url(self, obj):
        return reverse("residents:building_apartments", args=[obj.pk])


class BuildingDeleteView(generic.ObjectDeleteView):
    model = Building
    title = _("Delete Building")

    def get_object(self):
        building = super().get_object()
        self.community_pk = building.community_id
        return building

    def deletion_summary(self, obj):
        return services.building_deletion_summary(building=obj)

    def refusal(self, obj):
        return services.building_delete_refusal(obj)

    def delete(self, obj):
        services.building_delete(actor=self.request.actor, building=obj)

    def get_success_url(self):
        return reverse("residents:community_residents", args=[self.community_pk])
