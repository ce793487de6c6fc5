"""Payments: Type, Status (All and the spec's six) and Order Number."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import OrderStatus, OrderType
from .models import Order


class OrderFilterSet(django_filters.FilterSet):
    order_type = django_filters.ChoiceFilter(
        label=_("Type"),
        choices=OrderType.choices,
        empty_label=_("All"),
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-type"}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=OrderStatus.choices,
        empty_label=_("All"),
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-status"}),
    )
    number = django_filters.CharFilter(
        label=_("Order Number"),
        lookup_expr="startswith",
        widget=forms.TextInput(attrs={"class": "form-control", "id": "filter-number"}),
    )

    class Meta:
        model = Order
        fields = ["order_type", "status", "number"]

    @property
    def is_filtered(self) -> bool:
        # An invalid form filters everything out, so it must not borrow the stored count either.
        return self.is_bound and (not self.form.is_valid() or any(self.form.cleaned_data.values()))
