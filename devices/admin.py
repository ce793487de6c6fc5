"""Intercom devices in the super manager's admin: read-only, because every change goes through
devices.services (MAC binding, relays, counters) from the portal pages."""

from django.contrib import admin

from smartplus.admin import ReadOnlyAdmin

from .models import Device, Relay, ThirdPartyCamera


class RelayInline(admin.TabularInline):
    model = Relay
    fields = ("kind", "index", "enabled", "name", "dtmf_code", "access_methods")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ("name", "mac_address", "device_type", "place", "community", "model", "firmware_version")
    list_filter = ("device_type", "place", "model")
    search_fields = ("name", "mac_address__mac", "community__name")
    list_select_related = ("mac_address", "community")
    inlines = [RelayInline]


@admin.register(ThirdPartyCamera)
class ThirdPartyCameraAdmin(ReadOnlyAdmin):
    """Read-only too. The password is write-only: neither it nor its ciphertext is ever shown."""

    list_display = ("name", "place", "community", "building", "apartment", "created")
    list_filter = ("place",)
    search_fields = ("name", "community__name")
    list_select_related = ("community", "building", "apartment")
    # An explicit list, so a field added to the model later is not shown until someone decides to.
    fields = (
        "name",
        "community",
        "place",
        "building",
        "apartment",
        "rtsp_address",
        "username",
        "linked_devices",
    )
    readonly_fields = fields
