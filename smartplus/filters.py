"""Shared filtersets: the audit log's object type, user, date and change set filters."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditLog

_AUDITED_TYPES = (
    ("communities", "community"),
    ("communities", "building"),
    ("residents", "apartment"),
    ("residents", "resident"),
    ("devices", "device"),
    ("devices", "thirdpartycamera"),
    ("maclib", "macaddress"),
    ("accounts", "subaccount"),
    ("accounts", "propertymanager"),
    ("accounts", "propertymanagerassignment"),
    ("accounts", "billinginformation"),
    ("accounts", "customerservice"),
    ("accounts", "user"),
)


def _object_types(request):
    q = Q()
    for app, model in _AUDITED_TYPES:
        q |= Q(app_label=app, model=model)
    return ContentType.objects.filter(q).order_by("model")


class AuditLogFilterSet(django_filters.FilterSet):
    object_type = django_filters.ModelChoiceFilter(
        queryset=_object_types, label=_("Object type"), widget=forms.Select(attrs={"class": "form-select"})
    )
    action = django_filters.ChoiceFilter(
        choices=AuditAction.choices, label=_("Action"), widget=forms.Select(attrs={"class": "form-select"})
    )
    user = django_filters.CharFilter(
        method="filter_user", label=_("User"), widget=forms.TextInput(attrs={"class": "form-control"})
    )
    date_from = django_filters.DateFilter(
        field_name="time",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    date_to = django_filters.DateFilter(
        field_name="time",
        lookup_expr="date__lte",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    change_set = django_filters.UUIDFilter(
        label=_("Change set"), widget=forms.TextInput(attrs={"class": "form-control"})
    )

    class Meta:
        model = AuditLog
        fields = ["object_type", "action", "user", "date_from", "date_to", "change_set"]

    def filter_user(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(user_name__iexact=value) | Q(actor_name__iexact=value)) if value else queryset
        )
