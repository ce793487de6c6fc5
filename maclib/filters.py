"""MAC library search: a partial MAC (any case, with or without separators), Bound / Unbound, and
for a distributor the installer."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from smartplus import roles

from .models import MacAddress
from .services import installers_for
from .validators import mac_search_term

BOUND, UNBOUND = "bound", "unbound"


class MacFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("MAC"),
        method="search",
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("Search by MAC"), "id": "filter-q"}
        ),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(BOUND, _("Bound")), (UNBOUND, _("Unbound"))],
        empty_label=_("All"),
        method="filter_status",
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-status"}),
    )
    installer = django_filters.ModelChoiceFilter(
        label=_("Installer"),
        queryset=lambda request: installers_for(request.actor),
        empty_label=_("All"),
        # Own ids: the New and Import dialogs, opened over this page, have an "installer" field too.
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-installer"}),
    )

    class Meta:
        model = MacAddress
        fields = ["q", "status", "installer"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # The installer filter is the distributor's: everyone else has one installer, or (the
        # super manager) every installer of the platform, which a drop-down cannot hold.
        if request is None or not roles.allows(request.actor, MacAddress, "choose_installer"):
            del self.filters["installer"]

    def search(self, queryset, name, value):
        # Stored MACs are upper-case without separators, so the term is too; a plain (case-
        # sensitive) contains then matches "0c:11", "0C-11" and "0c11" alike.
        term = mac_search_term(value or "")
        return queryset.filter(mac__contains=term) if term else queryset

    def filter_status(self, queryset, name, value):
        if value == BOUND:
            return queryset.filter(device__isnull=False)
        if value == UNBOUND:
            return queryset.filter(device__isnull=True)
        return queryset
