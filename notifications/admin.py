from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The super manager's view of every tenant's emails (read only)."""

    list_display = ("created", "kind", "recipient_email", "community", "status", "attempts", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("recipient_email", "subject")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
