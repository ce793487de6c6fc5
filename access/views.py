"""Credentials pages: a community's list, an apartment's list, Add / Edit / Delete dialogs, and
the device page's credential versions (a panel of devices.hooks)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import Community
from devices.hooks import Panel
from residents.models import Apartment
from smartplus import authz, roles
from smartplus.views import generic

from . import selectors, services
from .choices import CredentialScope
from .filters import CredentialFilterSet
from .forms import CredentialForm
from .models import Credential, DeviceUsers
from .tables import CredentialTable

TITLE = gettext_lazy("Access Credentials")


def device_panel(actor, device) -> Panel | None:
    if (
        not roles.allows(actor, DeviceUsers, roles.VIEW)
        or device.device_type not in services.DOOR_DEVICE_TYPES
    ):
        return None
    state = DeviceUsers.objects.for_actor(actor).filter(device=device).first()
    return Panel("access/_device_credentials.html", {"state": state})


def apartment_panel(actor, apartment) -> dict:
    """The apartment page's link to its credentials (residents.hooks.apartment_panels)."""
    if not roles.allows(actor, Credential, roles.VIEW):
        return {}
    return {
        "credentials_url": reverse("access:apartment_credentials", args=[apartment.pk]),
        "credential_count": Credential.objects.for_actor(actor).filter(apartment=apartment).count(),
    }


# --- lists -------------------------------------------------------------------------------------


class _CredentialListView(generic.ObjectListView):
    model = Credential
    table_class = CredentialTable
    filterset_class = CredentialFilterSet
    template_name = "access/credential_list.html"
    title = TITLE

    def get_table(self, queryset):
        return self.table_class(queryset, community=self.community)

    def get_export_filename_parts(self):
        return [self.community.name, getattr(self, "label", ""), str(self.title)]

    def get_extra_context(self) -> dict:
        return {
            "community": self.community,
            "apartment": getattr(self, "apartment", None),
            "bulk_delete_url": reverse("access:credential_bulk_delete", args=[self.community.pk]),
            "can_delete": roles.allows(self.request.actor, Credential, roles.DELETE),
        }


class CommunityCredentialsView(_CredentialListView):
    def get(self, request, *args, **kwargs):
        self.community = get_object_or_404(
            Community.objects.for_actor(request.actor), pk=kwargs["community_pk"]
        )
        return super().get(request, *args, **kwargs)

    def get_table_queryset(self):
        return selectors.community_credentials(actor=self.request.actor, community=self.community)

    def get_breadcrumbs(self):
        return [
            (self.community.name, reverse("residents:community_residents", args=[self.community.pk])),
            (str(TITLE), None),
        ]


class ApartmentCredentialsView(_CredentialListView):
    add_url_name = "access:credential_add"

    def get(self, request, *args, **kwargs):
        self.apartment = get_object_or_404(
            Apartment.objects.for_actor(request.actor).select_related("community", "building"),
            pk=kwargs["apartment_pk"],
        )
        self.community = self.apartment.community
        self.label = _("APT %(number)s") % {"number": self.apartment.number}
        return super().get(request, *args, **kwargs)

    def get_add_url(self):
        return reverse(self.add_url_name, args=[self.apartment.pk])

    def get_table_queryset(self):
        return selectors.apartment_credentials(actor=self.request.actor, apartment=self.apartment)

    def get_breadcrumbs(self):
        return [
            (self.community.name, reverse("residents:community_residents", args=[self.community.pk])),
            (str(TITLE), reverse("access:community_credentials", args=[self.community.pk])),
            (
                _("%(building)s APT %(number)s")
                % {"building": self.apartment.building.name, "number": self.apartment.number},
                None,
            ),
        ]


# --- Add / Edit / Delete ---------------------------------------------------------------------------


class CredentialEditView(generic.ObjectEditView):
    model = Credential
    success_message = gettext_lazy("Credential saved.")

    @property
    def title(self):
        return _("Edit Credential") if self.action == roles.CHANGE else _("Add Credential")

    def get_queryset(self):
        return super().get_queryset().select_related("apartment", "resident")

    def get_instance(self):
        if self.action == roles.CHANGE:
            credential = self.get_object()
            self.apartment = credential.apartment
            return credential
        self.apartment = get_object_or_404(
            Apartment.objects.for_actor(self.request.actor), pk=self.kwargs["apartment_pk"]
        )
        return None

    def get_form(self, data=None):
        personal = authz.can(self.request.actor, roles.ADD, Credential, parent=self.apartment)
        return CredentialForm(
            data=data,
            actor=self.request.actor,
            apartment=self.apartment,
            instance=self.object,
            personal_allowed=personal,
        )

    def save(self, form):
        actor = self.request.actor
        if self.object is None:
            resident = form.cleaned_data["resident"]
            return services.credential_create(
                actor=actor, resident_id=resident.pk, fields=form.credential_fields()
            )
        return services.credential_update(
            actor=actor, credential_id=self.object.pk, fields=form.credential_fields()
        )

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except authz.PermissionDenied as exc:
            # A refused scope (Only Public Area) is the form's error, not a 403 page.
            if not exc.args:
                raise
            self.object = self.get_instance()
            form = self.get_form(data=request.POST)
            form.is_valid()
            form.add_error("scope", exc.args[0])
            return self.render_form(form, status=200 if getattr(request, "htmx", False) else 422)

    def get_success_url(self, obj):
        return generic.safe_next(
            self.request, reverse("access:apartment_credentials", args=[obj.apartment_id])
        )


class CredentialDeleteView(generic.ObjectDeleteView):
    model = Credential
    title = gettext_lazy("Delete Credential")

    def get_queryset(self):
        return super().get_queryset().select_related("apartment", "resident")

    def get_object(self):
        credential = super().get_object()
        self.list_url = reverse("access:apartment_credentials", args=[credential.apartment_id])
        return credential

    def deletion_summary(self, obj):
        who = (
            obj.resident.display_name
            if obj.resident
            else _("APT %(number)s") % {"number": obj.apartment.number}
        )
        where = (
            _("public devices") if obj.scope == CredentialScope.PUBLIC else _("the apartment's own devices")
        )
        return [f"{obj} — {who}", _("The door devices (%(where)s) stop accepting it.") % {"where": where}]

    def delete(self, obj):
        services.credential_delete(actor=self.request.actor, credential_id=obj.pk)

    def get_success_url(self):
        return generic.safe_next(self.request, self.list_url)


class CredentialBulkDeleteView(generic.PortalView):
    """Delete the credentials ticked in a list (POST `pk`, repeated)."""

    model = Credential
    action = roles.DELETE
    http_method_names = ["post"]

    def post(self, request, community_pk: int):
        community = get_object_or_404(Community.objects.for_actor(request.actor), pk=community_pk)
        ids = [int(v) for v in request.POST.getlist("selection") if v.isdigit()]
        default = reverse("access:community_credentials", args=[community.pk])
        if not ids:
            messages.info(request, _("Select the credentials to delete."))
            return generic.redirect_after(request, generic.safe_next(request, default))
        if Credential.objects.filter(pk__in=ids).exclude(community=community).exists():
            raise authz.NotFound
        try:
            with transaction.atomic():
                count = services.credential_bulk_delete(actor=request.actor, credential_ids=ids)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Deleted %(count)d credential(s).") % {"count": count})
        return generic.redirect_after(request, generic.safe_next(request, default))
