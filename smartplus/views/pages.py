"""Project-level pages: the role-aware home redirect, the audit log, the favicon and the CSRF
failure page."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from smartplus import roles
from smartplus.filters import AuditLogFilterSet
from smartplus.models import AuditLog
from smartplus.tables import AuditLogTable

from . import generic


def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login("/")
    return redirect(roles.home_page(request.actor))


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    """`/favicon.ico`, which browsers ask for on every page (the pages link static/favicon.svg)."""
    path = finders.find("favicon.ico")
    if not path:
        raise Http404
    return FileResponse(open(path, "rb"), content_type="image/x-icon")


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: the portal's error page (a form left open too long, or cookies off)."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


class AuditLogListView(generic.ObjectListView):
    model = AuditLog
    table_class = AuditLogTable
    filterset_class = AuditLogFilterSet
    title = _("Audit Log")
    template_name = "generic/object_list.html"

    def get_table_queryset(self):
        return self.get_queryset().select_related("object_type")
