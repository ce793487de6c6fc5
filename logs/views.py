"""Door Log, Call History and Captured Images of a community; the captured JPEGs themselves.

Thin: the community and the Log Access Control rule come from logs.selectors (a PM without it,
and another tenant, get 404); rows are seek-paged; exports stream the filtered rows."""

from __future__ import annotations

import csv

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from smartplus import exports
from smartplus.views.generic import PortalView
from smartplus.xlsx import workbook_bytes, xlsx_response

from . import selectors
from .forms import CallFilterForm, DoorLogFilterForm, LogFilterForm
from .models import CallEvent, CapturedImage, DoorEvent

PER_PAGE = 50
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet, below its header row


class _Echo:
    def write(self, value):
        return value


def _time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


class LogListView(PortalView):
    """One community's log, filtered and seek-paged; `?export=csv|xlsx` streams every filtered row."""

    template_name = ""
    form_class = LogFilterForm
    tab = ""
    columns: list = []

    def get(self, request, community_pk: int):
        self.community = selectors.community_for_logs(
            actor=request.actor, community_pk=community_pk, model=self.model
        )
        form = self.form_class(request.GET or None, actor=request.actor, community=self.community)
        filters = form.filters()
        qs = selectors.log_queryset(
            actor=request.actor, community=self.community, model=self.model, filters=filters
        )
        if filters is None:
            qs = qs.none()
        export = request.GET.get("export")
        if export in ("csv", "xlsx"):
            return self.export(qs, export)
        page = selectors.log_page(
            queryset=qs, limit=PER_PAGE, older=request.GET.get("older"), newer=request.GET.get("newer")
        )
        return self.render(
            self.template_name,
            {
                "community": self.community,
                "form": form,
                "page": page,
                "tab": self.tab,
                "columns": self.columns,
            },
        )

    def get_breadcrumbs(self):
        return [(self.community.name, None), (str(self.title), None)]

    def row(self, obj) -> list:
        raise NotImplementedError

    def export(self, qs, kind: str):
        with translation.override("en"):  # the export's headers stay as the spec prints them
            headers = [str(c) for c in self.columns]
        rows = (self.row(obj) for obj in qs.iterator(chunk_size=exports.CHUNK_SIZE))
        name = exports.filename(self.community.name, str(self.title))
        if kind == "xlsx":
            limited = (row for index, row in enumerate(rows) if index < XLSX_MAX_ROWS)
            return xlsx_response(workbook_bytes(headers, limited, title=str(self.title)), name)
        writer = csv.writer(_Echo())
        body = (writer.writerow(r) for r in _with_header(headers, rows))
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name.removesuffix(".xlsx")}.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _with_header(headers, rows):
    yield headers
    yield from rows


class DoorLogView(LogListView):
    model = DoorEvent
    title = _("Door Log")
    template_name = "logs/door_log.html"
    form_class = DoorLogFilterForm
    tab = "door"
    columns = [
        _("Time"),
        _("Device"),
        _("APT"),
        _("Relay"),
        _("Type"),
        _("Credential"),
        _("Resident"),
        _("Result"),
    ]

    def row(self, e: DoorEvent) -> list:
        return [
            _time(e.occurred_at),
            e.device_name,
            e.apartment.number if e.apartment_id else "",
            e.relay or "",
            e.get_method_display(),
            e.credential,
            e.resident_name,
            e.get_result_display(),
        ]


class CallHistoryView(LogListView):
    model = CallEvent
    title = _("Call History")
    template_name = "logs/call_history.html"
    form_class = CallFilterForm
    tab = "call"
    columns = [_("Start"), _("Device"), _("Caller"), _("Callee"), _("Duration (s)"), _("Answered")]

    def row(self, e: CallEvent) -> list:
        return [
            _time(e.occurred_at),
            e.device_name,
            e.caller,
            e.callee,
            e.duration,
            _("Yes") if e.answered else _("No"),
        ]


class CapturedImagesView(LogListView):
    model = CapturedImage
    title = _("Captured Images")
    template_name = "logs/captured_images.html"
    tab = "image"
    columns = [_("Time"), _("Device"), _("Event"), _("Size (bytes)")]

    def row(self, i: CapturedImage) -> list:
        event = _("Door") if i.door_event_id else _("Call")
        return [_time(i.occurred_at), i.device_name, event, i.size]


class CapturedImageFileView(PortalView):
    """The JPEG itself, only to who may read the community's captured images: never a media URL."""

    model = CapturedImage

    def get(self, request, community_pk: int, pk: int):
        community = selectors.community_for_logs(
            actor=request.actor, community_pk=community_pk, model=CapturedImage
        )
        image = get_object_or_404(
            CapturedImage.objects.for_actor(request.actor).filter(community_id=community.pk), pk=pk
        )
        # ?thumb=1: the list's small copy (older rows without one get the capture itself).
        wanted = image.thumbnail if request.GET.get("thumb") and image.thumbnail else image.image
        try:
            handle = wanted.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'"
        return response
