"""The residents and devices template: Download The Template (dashboard), and a community's
Import (upload → check and preview → confirm → progress → result) on the shared import views."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from residents.models import ResidentImport
from smartplus import roles
from smartplus.forms import TemplateImportForm
from smartplus.views import generic
from smartplus.views import imports as imports_views
from smartplus.xlsx import xlsx_response

from . import template_import


class ResidentImportForm(TemplateImportForm):
    file_label = _("Template")
    file_help = _("Buildings, apartments, residents and devices: one apartment in each row.")


class TemplateDownloadView(generic.PortalView):
    """Download The Template: the columns, the spec's sample row and a sheet describing them."""

    model = ResidentImport
    action = roles.ADD

    def get(self, request, *args, **kwargs):
        return xlsx_response(template_import.template(), template_import.TEMPLATE_FILENAME)


class CommunityImportView(imports_views.ImportUploadView):
    """The community's import action."""

    model = ResidentImport
    form_class = ResidentImportForm
    detail_url_name = "devices:residentimport_detail"
    title = _("Import residents and devices")

    @cached_property
    def community(self) -> Community:
        # Looked up in the handler, after the role check: a role without imports gets 403.
        return get_object_or_404(
            Community.objects.for_actor(self.request.actor), pk=self.kwargs["community_pk"]
        )

    def get(self, request, *args, **kwargs):
        self.community  # noqa: B018 - 404 before anything else
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.community  # noqa: B018
        return super().post(request, *args, **kwargs)

    @property
    def template_url(self):
        return reverse("devices:template")

    def get_queryset_for_recent(self):
        return super().get_queryset_for_recent().filter(community=self.community)

    def get_breadcrumbs(self):
        return [
            (self.community.name, reverse("residents:community_residents", args=[self.community.pk])),
            (self.title, None),
        ]

    def get_extra_context(self) -> dict:
        return {
            **super().get_extra_context(),
            "template_link_text": gettext("Download The Template"),
            "template_hint": gettext("fill it in, then upload it here to import into %(community)s.")
            % {"community": self.community.name},
        }

    def job_fields(self, form) -> dict:
        return {"community": self.community, "installer_id": self.community.installer_id}


class ResidentImportMixin:
    model = ResidentImport

    def get_queryset(self):
        return super().get_queryset().select_related("community", "user")


class ResidentImportDetailView(ResidentImportMixin, imports_views.ImportJobView):
    confirm_url_name = "devices:residentimport_confirm"
    errors_url_name = "devices:residentimport_errors"

    def back_link(self):
        community = self.object.community
        return community.name, reverse("residents:community_residents", args=[community.pk])

    def upload_url(self) -> str:
        return reverse("devices:community_import", args=[self.object.community_id])


class ResidentImportConfirmView(ResidentImportMixin, imports_views.ImportConfirmView):
    detail_url_name = "devices:residentimport_detail"


class ResidentImportErrorsView(ResidentImportMixin, imports_views.ImportErrorsView):
    pass
