"""A community's credentials import on the shared import views: Download the template, Import
(upload → check and preview → confirm → progress → result), and the errors' download."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from smartplus import roles
from smartplus.forms import TemplateImportForm
from smartplus.views import generic
from smartplus.views import imports as imports_views
from smartplus.xlsx import xlsx_response

from . import importing
from .models import CredentialImport

TITLE = _("Import credentials")


class CredentialImportForm(TemplateImportForm):
    file_label = _("Template")
    file_help = _("PIN codes and RF cards: one credential in each row.")


class CredentialTemplateView(generic.PortalView):
    """Download the template: its columns, two sample rows and a sheet describing them."""

    model = CredentialImport
    action = roles.ADD

    def get(self, request, *args, **kwargs):
        return xlsx_response(importing.template(), importing.TEMPLATE_FILENAME)


class CredentialImportView(imports_views.ImportUploadView):
    """The community credentials page's Import."""

    model = CredentialImport
    form_class = CredentialImportForm
    detail_url_name = "access:credentialimport_detail"
    title = TITLE

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
        return reverse("access:credential_template")

    def get_queryset_for_recent(self):
        return super().get_queryset_for_recent().filter(community=self.community)

    def get_breadcrumbs(self):
        return [
            (self.community.name, reverse("access:community_credentials", args=[self.community.pk])),
            (str(self.title), None),
        ]

    def get_extra_context(self) -> dict:
        return {
            **super().get_extra_context(),
            "template_link_text": _("Download the template"),
            "template_hint": _("fill it in, then upload it here to add the credentials to %(community)s.")
            % {"community": self.community.name},
        }

    def job_fields(self, form) -> dict:
        return {"community": self.community, "installer_id": self.community.installer_id}


class CredentialImportMixin:
    model = CredentialImport

    def get_queryset(self):
        return super().get_queryset().select_related("community", "user")


class CredentialImportDetailView(CredentialImportMixin, imports_views.ImportJobView):
    confirm_url_name = "access:credentialimport_confirm"
    errors_url_name = "access:credentialimport_errors"

    def back_link(self):
        community = self.object.community
        return community.name, reverse("access:community_credentials", args=[community.pk])

    def upload_url(self) -> str:
        return reverse("access:credential_import", args=[self.object.community_id])


class CredentialImportConfirmView(CredentialImportMixin, imports_views.ImportConfirmView):
    detail_url_name = "access:credentialimport_detail"


class CredentialImportErrorsView(CredentialImportMixin, imports_views.ImportErrorsView):
    pass
