"""The community node's searches: devices by Device Name or MAC (partial) and Device Type;
cameras by Device Name (partial)."""

import re

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from maclib.validators import mac_search_term

from .choices import DeviceType
from .models import Device, ThirdPartyCamera

HEX = re.compile(r"[0-9A-F]{1,12}")


class DeviceFilterSet(django_filters.FilterSet):
    device_type = django_filters.ChoiceFilter(
        label=_("Device Type"), choices=DeviceType.choices, empty_label=_("All")
    )
    q = django_filters.CharFilter(label=_("Search"), method="search")

    class Meta:
        model = Device
        fields = ["device_type", "q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["q"].widget.attrs.update(
            placeholder=_("Device Name or MAC"), type="search", **{"class": "form-control"}
        )
        self.form.fields["device_type"].widget.attrs["class"] = "form-select"

    @property
    def is_filtered(self) -> bool:
        # An invalid form filters everything out, so it must not borrow the stored count either.
        return self.is_bound and (
            not self.form.is_valid() or any(v not in (None, "") for v in self.form.cleaned_data.values())
        )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(name__icontains=value)
        # MACs are stored as 12 upper-case hex digits: "0c:11:05" finds 0C1105....
        mac = mac_search_term(value)
        if HEX.fullmatch(mac):
            match |= Q(mac_address__mac__contains=mac)
        return queryset.filter(match)


class CameraFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")

    class Meta:
        model = ThirdPartyCamera
        fields = ["q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["q"].widget.attrs.update(
            placeholder=_("Device Name"), type="search", **{"class": "form-control"}
        )

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__icontains=value) if value else queryset
