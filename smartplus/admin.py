from django.contrib import admin

from .models import AuditLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the admin shows but never writes: they change through services or are history."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "time",
        "user_name",
        "actor_name",
        "action",
        "object_type",
        "object_repr",
        "installer",
        "change_set",
    )
    list_filter = ("action", "object_type")
    search_fields = ("user_name", "actor_name", "object_repr")  # a change set: ?change_set=<id>
    date_hierarchy = "time"
