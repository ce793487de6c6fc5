"""MAC Library module: list and search, New, Import (with the template), remove."""

from __future__ import annotations

from smartplus.views import generic

from .models import MacAddress


class _Todo(generic.PortalView):
    model = MacAddress


MacListView = MacAddView = MacImportView = MacTemplateView = MacDeleteView = _Todo
