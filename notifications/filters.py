"""The notification log's filters: community (the actor's), kind, status, recipient."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Community

from .choices import Kind, Status
from .models import Notification


def _communities(request):
    return Community.objects.for_actor(request.actor).order_by("name")


class NotificationFilterSet(django_filters.FilterSet):
    community = django_filters.ModelChoiceFilter(
        queryset=_communities, label=_("Community"), widget=forms.Select(attrs={"class": "form-select"})
    )
    kind = django_filters.ChoiceFilter(
        choices=Kind.choices, label=_("Kind"), widget=forms.Select(attrs={"class": "form-select"})
    )
    status = django_filters.ChoiceFilter(
        choices=Status.choices, label=_("Status"), widget=forms.Select(attrs={"class": "form-select"})
    )
    recipient = django_filters.CharFilter(
        field_name="recipient_email",
        lookup_expr="icontains",
        label=_("Recipient"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    class Meta:
        model = Notification
        fields = ["community", "kind", "status", "recipient"]
