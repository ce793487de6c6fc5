"""Firmware list search (version or model) and the Upgrade list's status tabs."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import UpgradeStatus
from .models import Firmware, FirmwareUpgrade


class FirmwareFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Version or Model"),
        method="search",
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("e.g. 29.30 or R29"), "id": "filter-q"}
        ),
    )

    class Meta:
        model = Firmware
        fields = ["q"]

    def search(self, queryset, name, value):
        term = (value or "").strip()
        if not term:
            return queryset
        return queryset.filter(Q(version__icontains=term) | Q(model__iexact=term))


class UpgradeFilterSet(django_filters.FilterSet):
    """All / Pending / Processing / Executed: shown as tabs, so no form field is rendered."""

    status = django_filters.ChoiceFilter(choices=UpgradeStatus.choices, empty_label=_("All"))

    class Meta:
        model = FirmwareUpgrade
        fields = ["status"]
