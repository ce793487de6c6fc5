"""Generic list / detail / edit / delete views. Apps only declare; scoping happens here, once.

Every view names a `model` and an `action`. A role without the action gets 403; rows come from
`model.objects.for_actor(request.actor, action)`, so another tenant's object is a 404.
Forms open as modals through htmx; the same URLs work as plain pages without JavaScript.
A list answers `?export=xlsx` with its rows as a workbook: same queryset, filters and sort.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from smartplus import exports, roles
from smartplus.xlsx import workbook_bytes, xlsx_response


def redirect_after(request, url: str) -> HttpResponse:
    """A redirect that also works as the answer to an htmx request from a modal."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (unknown keys become form errors)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def safe_next(request, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


class PortalView(View):
    """Login required; the role must hold `action` on `model` (roles.py), else 403."""

    model = None
    action = roles.VIEW
    title = ""
    breadcrumbs: list[tuple[str, str | None]] | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        self.action = self.get_action()
        if self.model is not None and not roles.allows(request.actor, self.model, self.action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_action(self) -> str:
        return self.action

    def get_queryset(self):
        return self.model.objects.for_actor(self.request.actor, self.action)

    def get_breadcrumbs(self) -> list[tuple[str, str | None]]:
        return self.breadcrumbs or [(self.title, None)]

    def render(self, template: str, context: dict, status: int = 200) -> TemplateResponse:
        base = {"view": self, "title": self.title, "breadcrumbs": self.get_breadcrumbs()}
        return TemplateResponse(self.request, template, {**base, **context}, status=status)


class TablesMixin:
    """Configure django-tables2 tables with our "Lines per page" choices."""

    def per_page(self, prefix: str = "") -> int:
        raw = self.request.GET.get(f"{prefix}per_page", "")
        allowed = settings.SMARTPLUS_LINES_PER_PAGE
        return int(raw) if raw.isdigit() and int(raw) in allowed else allowed[0]

    def order(self, table, prefix: str = ""):
        """Order from the query string (`sort=`)."""
        table.prefix = prefix
        table.request = self.request
        # Only orderable columns; a stale or hand-typed ?sort= keeps the table's default order.
        orderable = {c.name for c in table.columns if c.orderable}
        order_by = [
            o for o in self.request.GET.getlist(table.prefixed_order_by_field) if o.lstrip("-") in orderable
        ]
        if order_by:
            table.order_by = order_by
        return table

    def configure(self, table, prefix: str = "", paginator_class=Paginator, **paginator_kwargs):
        """Order and paginate from the query string; only the allowed "Lines per page" apply."""
        self.order(table, prefix)
        page = self.request.GET.get(table.prefixed_page_field, 1)
        options = {"paginator_class": paginator_class, "per_page": self.per_page(prefix), **paginator_kwargs}
        try:
            table.paginate(page=page, **options)
        except PageNotAnInteger:
            table.page = table.paginator.page(1)
        except EmptyPage:
            past_end = str(page).isdigit() and int(page) > 1
            table.page = table.paginator.page(table.paginator.num_pages if past_end else 1)
        return table


class ObjectListView(TablesMixin, PortalView):
    table_class = None
    filterset_class = None
    template_name = "generic/object_list.html"
    add_url_name: str | None = None
    # The export's sheet name and file name; the page's title when not set.
    export_name: str | None = None

    def get_table_queryset(self):
        return self.get_queryset()

    def get(self, request, *args, **kwargs):
        qs = self.get_table_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET or None, queryset=qs, request=request)
            qs = filterset.qs
        if request.GET.get("export") == "xlsx":
            return self.export(qs)
        table = self.configure(self.get_table(qs), **self.get_pagination(filterset))
        can_add = self.add_url_name and roles.allows(request.actor, self.model, roles.ADD)
        return self.render(
            self.template_name,
            {
                "table": table,
                "filterset": filterset,
                "add_url": self.get_add_url() if can_add else None,
                **self.get_extra_context(),
            },
        )

    def get_table(self, queryset):
        # No request= here: tables2 would then paginate (and COUNT) once before `configure` does.
        return self.table_class(queryset)

    def export(self, queryset) -> HttpResponse:
        """Every row the page lists, not one page: the same table, ordered as the page is, its
        queryset streamed into a write-only workbook. A read, under the list's own VIEW scope."""
        table = self.order(self.get_table(exports.StreamedQuerysetData(queryset)))
        rows = exports.table_rows(table)
        headers = next(rows)
        # The sheet's and the file's names stay English, as the headers do (and a file name is ASCII).
        with translation.override(settings.LANGUAGE_CODE):
            name = str(self.get_export_name())
            file_name = exports.filename(*(str(part) for part in self.get_export_filename_parts()))
        content = workbook_bytes(headers, rows, title=name)
        return xlsx_response(content, file_name)

    def get_export_name(self) -> str:
        return self.export_name or self.title

    def get_export_filename_parts(self) -> list[str]:
        return [self.get_export_name()]

    def get_pagination(self, filterset) -> dict:
        """Paginator options: a big list passes FastPaginator and, unfiltered, a stored count."""
        return {}

    def get_add_url(self) -> str:
        return reverse(self.add_url_name)

    def get_extra_context(self) -> dict:
        return {}


class ObjectMixin:
    pk_url_kwarg = "pk"

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs[self.pk_url_kwarg])


class ObjectDetailView(ObjectMixin, PortalView):
    template_name = ""

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render(self.template_name, {"object": self.object, **self.get_extra_context()})

    def get_extra_context(self) -> dict:
        return {}


class ObjectEditView(ObjectMixin, PortalView):
    """Add (no pk in the URL) or change an object through a form and one service call.

    Subclasses implement `save(form)` calling the service. A ValidationError from the service lands
    on the form's fields; everything happens in one transaction, so nothing is half-written.
    """

    form_class = None
    template_name = "generic/object_edit.html"
    modal_template_name = "generic/object_edit_modal.html"
    success_message = _("Saved.")

    def get_action(self) -> str:
        return roles.CHANGE if self.pk_url_kwarg in self.kwargs else roles.ADD

    def get_instance(self):
        return self.get_object() if self.action == roles.CHANGE else None

    def get_form_kwargs(self) -> dict:
        return {"actor": self.request.actor, "instance": self.object}

    def get_form(self, data=None):
        return self.form_class(data=data, **self.get_form_kwargs())

    def get_success_url(self, obj) -> str:
        return safe_next(self.request, reverse("home"))

    def get_extra_context(self) -> dict:
        return {}

    def render_form(self, form, status=200):
        template = self.modal_template_name if getattr(self.request, "htmx", False) else self.template_name
        return self.render(
            template,
            {
                "form": form,
                "object": self.object,
                "next": safe_next(self.request, ""),
                "form_action": self.request.get_full_path(),
                **self.get_extra_context(),
            },
            status=status,
        )

    def get(self, request, *args, **kwargs):
        self.object = self.get_instance()
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        self.object = self.get_instance()
        form = self.get_form(data=request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    obj = self.save(form)
                    # Re-check inside the transaction that the result is still the actor's.
                    if not self.model.objects.for_actor(request.actor, roles.VIEW).filter(pk=obj.pk).exists():
                        raise PermissionDenied
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                if self.success_message:
                    messages.success(request, self.success_message.format(object=obj))
                return redirect_after(request, self.get_success_url(obj))
        return self.render_form(form, status=422 if not getattr(request, "htmx", False) else 200)

    def save(self, form):
        raise NotImplementedError


class ObjectDeleteView(ObjectMixin, PortalView):
    """Delete one object. `refusal()` names why the service would refuse (the dialog shows it and
    disables Delete); `get_confirm_form()` asks for more than a click (a typed name)."""

    action = roles.DELETE
    template_name = "generic/object_delete.html"
    modal_template_name = "generic/object_delete_modal.html"

    def deletion_summary(self, obj) -> list[str]:
        return [str(obj)]

    def refusal(self, obj) -> str | None:
        """Why deleting is refused, from the same service function the delete itself asks."""
        return None

    def get_confirm_form(self, obj, data=None):
        return None

    def delete(self, obj) -> None:
        raise NotImplementedError

    def get_success_url(self) -> str:
        return safe_next(self.request, reverse("home"))

    def render_dialog(self, obj, *, confirm_form=None, status: int = 200):
        request = self.request
        template = self.modal_template_name if getattr(request, "htmx", False) else self.template_name
        return self.render(
            template,
            {
                "object": obj,
                "summary": self.deletion_summary(obj),
                "refusal": self.refusal(obj),
                "confirm_form": confirm_form,
                "form_action": request.get_full_path(),
                "next": safe_next(request, ""),
            },
            status=status,
        )

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render_dialog(obj, confirm_form=self.get_confirm_form(obj))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        confirm_form = self.get_confirm_form(obj, data=request.POST)
        if confirm_form is not None and not confirm_form.is_valid():
            # htmx swaps only 2xx answers into the modal, as the edit views do.
            status = 200 if getattr(request, "htmx", False) else 422
            return self.render_dialog(obj, confirm_form=confirm_form, status=status)
        name = str(obj)
        try:
            with transaction.atomic():
                self.delete(obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("Deleted %(name)s.") % {"name": name})
        return redirect_after(request, self.get_success_url())


class ObjectActionView(ObjectMixin, PortalView):
    """A POST-only action on one object that calls exactly one service (reset password, ...)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            with transaction.atomic():
                self.perform(obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect_after(request, safe_next(request, reverse("home")))

    def perform(self, obj) -> None:
        raise NotImplementedError
