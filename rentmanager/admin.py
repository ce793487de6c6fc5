from django.contrib import admin
from django.db import models

from .models import Connection, SyncRun


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("installer", "base_url", "username", "enabled", "last_scheduled_on")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    exclude = ("password_encrypted",)  # set through the link form: encrypted, never shown


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("connection", "started_at", "finished_at", "status", "trigger")
    list_filter = ("status",)
    readonly_fields = ("counts", "message")
