"""Community list search."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Community


class CommunityFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Community
        fields = ["q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(city__icontains=value) | Q(street__icontains=value)
        )
