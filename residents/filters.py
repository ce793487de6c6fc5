"""Resident search at community level: App Status, Active and a search box."""

import django_filters
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from .choices import ActiveStatus, AppStatus
from .models import Resident
from .status import active_q, app_status_q


class ResidentFilterSet(django_filters.FilterSet):
    app_status = django_filters.ChoiceFilter(
        label=_("App Status"), choices=AppStatus.choices, empty_label=_("All"), method="filter_app_status"
    )
    active = django_filters.ChoiceFilter(
        label=_("Active"),
        choices=[
            (s.value, s.label) for s in (ActiveStatus.NORMAL, ActiveStatus.INACTIVATED, ActiveStatus.EXPIRED)
        ],
        empty_label=_("All"),
        method="filter_active",
    )
    q = django_filters.CharFilter(label=_("Search"), method="search")

    class Meta:
        model = Resident
        fields = ["app_status", "active", "q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["q"].widget.attrs.update(
            placeholder=_("Resident, email, APT or APT name"), **{"class": "form-control"}
        )
        for name in ("app_status", "active"):
            self.form.fields[name].widget.attrs["class"] = "form-select"

    @property
    def is_filtered(self) -> bool:
        # An invalid form filters everything out, so it must not borrow the stored count either.
        return self.is_bound and (not self.form.is_valid() or any(self.form.cleaned_data.values()))

    def filter_app_status(self, queryset, name, value):
        return queryset.filter(app_status_q(value)) if value else queryset

    def filter_active(self, queryset, name, value):
        return queryset.filter(active_q(value)) if value else queryset

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.annotate(full_name=Concat("first_name", Value(" "), "last_name")).filter(
            Q(full_name__icontains=value)
            | Q(email__icontains=value)
            | Q(apartment__number__icontains=value)
            | Q(apartment__name__icontains=value)
        )
