"""MAC Library module: list and search, New, Import (with the template download), Remove."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse

from smartplus import roles
from smartplus.pagination import FastPaginator
from smartplus.views import generic

from . import imports, selectors, services
from .filters import MacFilterSet
from .forms import MacAddForm, MacImportForm
from .models import MacAddress
from .tables import MacTable

TITLE = "MAC Library"


def _list_url(request) -> str:
    return generic.safe_next(request, reverse("maclib:mac_list"))


class MacListView(generic.ObjectListView):
    model = MacAddress
    table_class = MacTable
    filterset_class = MacFilterSet
    template_name = "maclib/mac_list.html"
    add_url_name = "maclib:mac_add"
    title = TITLE

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
    title = "New MAC"
    success_message = "{object.mac} was added to the MAC library."

    def save(self, form):
        return services.mac_add(
            actor=self.request.actor, installer=form.installer, mac=form.cleaned_data["mac"]
        )

    def get_success_url(self, obj) -> str:
        return _list_url(self.request)


class MacImportView(DialogMixin, generic.ObjectEditView):
    """Import: the MAC template (.xlsx); all or nothing, every bad row listed."""

    model = MacAddress
    form_class = MacImportForm
    template_name = "maclib/mac_import.html"
    modal_template_name = "maclib/mac_import_modal.html"
    title = "Import MACs"

    def get_form(self, data=None):
        files = self.request.FILES if data is not None else None
        return self.form_class(data=data, files=files, **self.get_form_kwargs())

    def get_extra_context(self) -> dict:
        return {"template_url": reverse("maclib:mac_template")}

    def post(self, request, *args, **kwargs):
        self.object = None
        form = self.get_form(data=request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    count = self.save(form)
            except services.ImportRejected as exc:
                form.row_errors = exc.rows
                form.add_error(None, f"Nothing was imported: {len(exc.rows)} row(s) to correct.")
            except ValidationError as exc:
                generic.apply_errors(form, exc)
            else:
                messages.success(request, f"Imported {count} MAC(s).")
                return generic.redirect_after(request, _list_url(request))
        return self.render_form(form, status=200 if request.htmx else 422)

    def save(self, form) -> int:
        sheet = form.cleaned_data["file"]
        if sheet.errors and not sheet.rows:
            raise services.ImportRejected(sheet.errors)
        try:
            count = services.mac_import(actor=self.request.actor, installer=form.installer, rows=sheet.rows)
        except services.ImportRejected as exc:
            raise services.ImportRejected(sorted(sheet.errors + exc.rows, key=lambda e: e.row)) from exc
        if sheet.errors:
            # The formula cells are bad rows too: raising rolls the other rows' insert back.
            raise services.ImportRejected(sheet.errors)
        return count


class MacTemplateView(generic.PortalView):
    """Download the MAC template: the header and the spec's three sample rows."""

    model = MacAddress
    action = roles.ADD

    def get(self, request, *args, **kwargs):
        response = HttpResponse(imports.mac_template(), content_type=imports.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{imports.TEMPLATE_FILENAME}"'
        return response


# --- Remove ------------------------------------------------------------------------------------


class MacDeleteView(DialogMixin, generic.ObjectDeleteView):
    """Remove a MAC from the library; refused while a device is bound to it (the service says which)."""

    model = MacAddress
    title = "Remove MAC"
    template_name = "maclib/mac_delete.html"
    modal_template_name = "maclib/mac_delete_modal.html"

    def get_queryset(self):
        return selectors.mac_list(actor=self.request.actor, action=roles.DELETE)

    def deletion_summary(self, obj) -> list[str]:
        """Warnings shown before the removal: a bound MAC is refused until its device is deleted."""
        device = selectors.mac_bound_to(actor=self.request.actor, mac=obj)
        if not device:
            return []
        return [f"{obj.mac} is bound to {device}: it cannot be removed until that device is deleted."]

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
            messages.success(request, f"{obj.mac} was removed from the MAC library.")
        return generic.redirect_after(request, self.get_success_url())
