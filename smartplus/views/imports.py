"""Generic import views: upload, the import's page (progress, preview, errors, result), confirm,
and the errors' download. Apps declare the job model, the form and their URLs.

The import's page is where the user may leave and come back: while a worker checks or imports
the file, it polls itself through htmx and swaps in the new state.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from smartplus import importing, roles
from smartplus.models import ImportStatus
from smartplus.xlsx import xlsx_response

from . import generic

# The import's page lists this many errors; the download has every one.
ERRORS_SHOWN = 500
RECENT_IMPORTS = 5


class ImportUploadView(generic.ObjectEditView):
    """Upload a template; the file's own faults (size, type, macros) are told at the field at once.

    Subclasses set `model` (the job model), `form_class` (a file field that runs
    `xlsx.check_package`), `detail_url_name`, and `job_fields(form)` for the job's owner fields.
    """

    template_name = "generic/import_upload.html"
    modal_template_name = "generic/import_upload_modal.html"
    detail_url_name = ""
    template_url: str | None = None

    def get_action(self) -> str:
        return roles.ADD

    def get_instance(self):
        return None

    def get_form(self, data=None):
        files = self.request.FILES if data is not None else None
        return self.form_class(data=data, files=files, **self.get_form_kwargs())

    def recent_imports(self):
        return self.get_queryset_for_recent()[:RECENT_IMPORTS]

    def get_queryset_for_recent(self):
        return self.model.objects.for_actor(self.request.actor).select_related("user").defer("content")

    def get_extra_context(self) -> dict:
        return {
            "template_url": self.template_url,
            "recent_imports": self.recent_imports(),
            "detail_url_name": self.detail_url_name,
        }

    def job_fields(self, form) -> dict:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        self.object = None
        form = self.get_form(data=request.POST)
        if not form.is_valid():
            return self.render_form(form, status=200 if request.htmx else 422)
        job = importing.start(
            self.model, request=request, upload=form.cleaned_data["file"], **self.job_fields(form)
        )
        return generic.redirect_after(request, reverse(self.detail_url_name, args=[job.pk]))


class ImportJobView(generic.ObjectDetailView):
    """The import's page. An htmx poll (while a worker works) gets the status block alone."""

    template_name = "generic/import_job.html"
    status_template_name = "generic/_import_status.html"
    confirm_url_name = ""
    errors_url_name = ""

    def back_link(self) -> tuple[str, str]:
        raise NotImplementedError

    def upload_url(self) -> str:
        raise NotImplementedError

    def get_queryset(self):
        # The page never needs the uploaded bytes (up to 5 MB).
        return super().get_queryset().defer("content")

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        context = {"object": self.object, **self.get_extra_context()}
        if request.htmx and request.GET.get("status"):
            return self.render(self.status_template_name, context)
        return self.render(self.template_name, context)

    def get_extra_context(self) -> dict:
        job = self.object
        can_confirm = roles.allows(self.request.actor, self.model, roles.CHANGE)
        back_title, back_url = self.back_link()
        summary = [(kind, entry) for kind, entry in job.summary]
        return {
            "job": job,
            "progress": importing.progress_of(job),
            "summary": summary,
            "errors_shown": importing.row_errors(job)[:ERRORS_SHOWN],
            "errors_more": max(0, job.error_count - ERRORS_SHOWN),
            "confirm_url": reverse(self.confirm_url_name, args=[job.pk]) if can_confirm else None,
            # The file is kept until the import is done; only then is there nothing to download.
            "errors_url": reverse(self.errors_url_name, args=[job.pk])
            if job.errors and job.status != ImportStatus.DONE
            else None,
            "status_url": f"{self.request.path}?status=1",
            "back_title": back_title,
            "back_url": back_url,
            "upload_url": self.upload_url(),
            "statuses": ImportStatus,
        }

    def get_breadcrumbs(self):
        back_title, back_url = self.back_link()
        return [(back_title, back_url), (str(self.object), None)]


class ImportConfirmView(generic.ObjectMixin, generic.PortalView):
    """Confirm a checked import: it is written now (small file) or by a worker."""

    action = roles.CHANGE
    http_method_names = ["post"]
    detail_url_name = ""

    def post(self, request, *args, **kwargs):
        job = self.get_object()
        if not importing.confirm(job):
            messages.error(request, _("This import is not waiting for a confirmation any more."))
        return generic.redirect_after(request, reverse(self.detail_url_name, args=[job.pk]))


class ImportErrorsView(generic.ObjectMixin, generic.PortalView):
    """The uploaded file again, with an "Error" column on each bad row."""

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        if not job.errors or not job.content:
            raise Http404(_("This import has no errors to download."))
        name = job.file_name.rsplit(".", 1)[0] or "import"
        return xlsx_response(importing.error_workbook(job), f"{name}-errors.xlsx")
