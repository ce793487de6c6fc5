from django.contrib import admin
from django.db import models

from .models import Connection, SyncRun
from .services import is_syncing


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("installer", "base_url", "username", "enabled", "last_scheduled_on")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    exclude = ("password_encrypted",)  # set through the link form: encrypted, never shown

    def has_delete_permission(self, request, obj=None):
        # Not while a sync writes its links (services.connection_delete says why).
        return super().has_delete_permission(request, obj) and (obj is None or not is_syncing(obj))


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("connection", "started_at", "finished_at", "status", "trigger")
    list_filter = ("status",)
    readonly_fields = ("counts", "message")
