"""Apartments and end users in the super manager's admin: read-only, because every change goes
through residents.services (counters, capacity, emails) from the portal pages."""

from django.contrib import admin

from smartplus.admin import ReadOnlyAdmin

from .models import Apartment, Resident


@admin.register(Apartment)
class ApartmentAdmin(ReadOnlyAdmin):
    list_display = ("number", "name", "building", "community", "family_sip_number", "created")
    search_fields = ("number", "name", "family_sip_number", "community__name")
    list_select_related = ("building", "community")


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    list_display = ("first_name", "last_name", "email", "apartment", "community", "activated", "expires_at")
    search_fields = ("first_name", "last_name", "email", "apartment__number", "community__name")
    list_select_related = ("apartment", "community")
    exclude = ("app_password",)
