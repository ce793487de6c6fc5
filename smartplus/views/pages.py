"""Project-level pages: the role-aware home redirect and the audit log."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from smartplus import roles
from smartplus.filters import AuditLogFilterSet
from smartplus.models import AuditLog
from smartplus.tables import AuditLogTable

from . import generic


def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login("/")
    return redirect(roles.home_page(request.actor))


class AuditLogListView(generic.ObjectListView):
    model = AuditLog
    table_class = AuditLogTable
    filterset_class = AuditLogFilterSet
    title = "Audit Log"
    template_name = "generic/object_list.html"

    def get_table_queryset(self):
        return self.get_queryset().select_related("object_type")
