"""MAC library in the super manager's admin: read-only, because MACs are added, imported and
removed through maclib.services (uniqueness, the bound-device rule, audit) from the portal."""

from django.contrib import admin

from smartplus.admin import ReadOnlyAdmin

from .models import MacAddress
from .validators import mac_search_term


@admin.register(MacAddress)
class MacAddressAdmin(ReadOnlyAdmin):
    list_display = ("mac", "installer", "device", "added_by", "created")
    search_fields = ("mac",)
    list_select_related = ("installer", "added_by", "device")
    date_hierarchy = "created"

    def get_search_results(self, request, queryset, search_term):
        # MACs are stored upper-case without separators; accept "0c:11:05" as typed.
        return super().get_search_results(request, queryset, mac_search_term(search_term))
