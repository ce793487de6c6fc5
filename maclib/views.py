"""MAC Library module: list and search, New, Import (with the template download), Remove."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartplus import roles
from smartplus.pagination import FastPaginator
from smartplus.views import generic
from smartplus.views import imports as imports_views
from smartplus.xlsx import xlsx_response

from . import imports, selectors, services
from .filters import MacFilterSet
from .forms import MacAddForm, MacImportForm
from .models import MacAddress, MacImport
from .tables import MacTable

TITLE = _("MAC Library")


def _list_url(request) -> str:
    return generic.safe_next(request, reverse("maclib:mac_list"))


class MacListView(generic.ObjectListView):
    model = MacAddress
    table_class = MacTable
    filterset_class = MacFilterSet
    template_name = "maclib/mac_list.html"
    add_url_name = "maclib:mac_add"
    title = TITLE
    export_name = "MAC Library"  # exports keep English names, as their headers do

    def get_table_queryset(self):
        return selectors.mac_list(actor=self.request.actor)

    def get_table(self, queryset):
        # The Action column is the remove button: not shown to a role that may not remove.
        can_delete = roles.allows(self.request.actor, MacAddress, roles.DELETE)
        return self.table_class(
            queryset, actor=self.request.actor, exclude=() if can_delete else ("actions",)
        )

    def get_pagination(self, filterset) -> dict:
        # Pages in the second half read backwards: the last page costs what the first does.
        return {"paginator_class": FastPaginator}

    def get_extra_context(self) -> dict:
        can_add = roles.allows(self.request.actor, MacAddress, roles.ADD)
        return {
            "import_url": reverse("maclib:mac_import") if can_add else None,
            "template_url": reverse("maclib:mac_template") if can_add else None,
        }


# --- New and Import ----------------------------------------------------------------------------


class DialogMixin:
    """Breadcrumbs of a MAC Library dialog opened as a page (without JavaScript)."""

    def get_breadcrumbs(self):
        return [(TITLE, reverse("maclib:mac_list")), (self.title, None)]


class MacAddView(DialogMixin, generic.ObjectEditView):
    """New: one MAC typed by hand; a distributor also chooses the installer."""

    model = MacAddress
    form_class = MacAddForm
    title = _("New MAC")
    success_message = _("{object.mac} was added to the MAC library.")

    def save(self, form):
        return services.mac_add(
            actor=self.request.actor, installer=form.installer, mac=form.cleaned_data["mac"]
        )

    def get_success_url(self, obj) -> str:
        return _list_url(self.request)


class MacImportView(DialogMixin, imports_views.ImportUploadView):
    """Import: upload the MAC template; its page then shows the check and asks to confirm."""

    model = MacImport
    form_class = MacImportForm
    title = _("Import MACs")
    detail_url_name = "maclib:macimport_detail"

    @property
    def template_url(self):
        return reverse("maclib:mac_template")

    def get_extra_context(self) -> dict:
        return {
            **super().get_extra_context(),
            "template_link_text": gettext("Download the MAC template"),
            "template_hint": gettext("one MAC in each line, under the MAC header."),
        }

    def job_fields(self, form) -> dict:
        return {"installer": form.installer}


class MacImportJobMixin:
    model = MacImport


class MacImportDetailView(MacImportJobMixin, imports_views.ImportJobView):
    confirm_url_name = "maclib:macimport_confirm"
    errors_url_name = "maclib:macimport_errors"

    def back_link(self):
        return TITLE, reverse("maclib:mac_list")

    def upload_url(self) -> str:
        return reverse("maclib:mac_import")


class MacImportConfirmView(MacImportJobMixin, imports_views.ImportConfirmView):
    detail_url_name = "maclib:macimport_detail"


class MacImportErrorsView(MacImportJobMixin, imports_views.ImportErrorsView):
    pass


class MacTemplateView(generic.PortalView):
    """Download the MAC template: the header and the spec's three sample rows."""

    model = MacAddress
    action = roles.ADD

    def get(self, request, *args, **kwargs):
        return xlsx_response(imports.mac_template(), imports.TEMPLATE_FILENAME)


# --- Remove ------------------------------------------------------------------------------------


class MacDeleteView(DialogMixin, generic.ObjectDeleteView):
    """Remove a MAC from the library; refused while a device is bound to it (the service says which)."""

    model = MacAddress
    title = _("Remove MAC")
    template_name = "maclib/mac_delete.html"
    modal_template_name = "maclib/mac_delete_modal.html"

    def get_queryset(self):
        return selectors.mac_list(actor=self.request.actor, action=roles.DELETE)

    def deletion_summary(self, obj) -> list[str]:
        return []

    def refusal(self, obj) -> str | None:
        # A bound MAC is refused until its device is deleted: said before the click.
        return services.mac_delete_refusal(actor=self.request.actor, mac=obj)

    def delete(self, obj) -> None:
        services.mac_delete(actor=self.request.actor, mac=obj)

    def get_success_url(self) -> str:
        return _list_url(self.request)

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            with transaction.atomic():
                self.delete(obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("%(mac)s was removed from the MAC library.") % {"mac": obj.mac})
        return generic.redirect_after(request, self.get_success_url())
