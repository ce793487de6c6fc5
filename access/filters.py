"""The credentials search: resident name, APT or code (partial), and the type."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import CredentialKind, CredentialScope
from .models import Credential


class CredentialFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=CredentialKind.choices, empty_label=_("All"))
    scope = django_filters.ChoiceFilter(
        label=_("Devices"), choices=CredentialScope.choices, empty_label=_("All")
    )
    q = django_filters.CharFilter(label=_("Search"), method="search")

    class Meta:
        model = Credential
        fields = ["kind", "scope", "q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["q"].widget.attrs.update(
            placeholder=_("Resident, APT, name or card"), type="search", **{"class": "form-control"}
        )
        self.form.fields["kind"].widget.attrs["class"] = "form-select"
        self.form.fields["scope"].widget.attrs["class"] = "form-select"

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = (
            Q(resident__first_name__icontains=value)
            | Q(resident__last_name__icontains=value)
            | Q(apartment__number__iexact=value)
            | Q(name__icontains=value)
            # Card codes are found by their digits; PINs are secrets, found only whole.
            | Q(kind="rf_card", code__icontains=value.upper())
            | Q(kind="pin", code=value)
        )
        return queryset.filter(match)
