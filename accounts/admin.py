"""Super manager's admin: distributors (with feature switches), installers, staff accounts."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .choices import Role
from .models import BillingInformation, CustomerService, PropertyManagerAssignment, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role", "distributor", "installer", "is_active", "last_login")
    list_filter = (
        "role",
        "is_active",
        "is_superuser",
        "community_calls_enabled",
        "doorphone_offline_enabled",
    )
    search_fields = ("username", "email", "first_name", "last_name")
    list_select_related = ("distributor", "installer")
    raw_id_fields = ("distributor", "installer")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Portal role", {"fields": ("role", "distributor", "installer", "phone", "time_zone", "language")}),
        (
            "Distributor feature switches",
            {"fields": ("community_calls_enabled", "doorphone_offline_enabled")},
        ),
        ("Installer account access", {"fields": ("account_access_enabled", "permission_granted")}),
        ("Property manager", {"fields": ("monthly_password_reminder", "password_changed_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "distributor", "password1", "password2"),
            },
        ),
    )

    def get_changeform_initial_data(self, request):
        return {"role": Role.DISTRIBUTOR}


@admin.register(PropertyManagerAssignment)
class PropertyManagerAssignmentAdmin(admin.ModelAdmin):
    list_display = (
        "property_manager",
        "community",
        "app_enabled",
        "delete_account_permission",
        "log_access_control",
    )
    list_select_related = ("property_manager", "community")
    raw_id_fields = ("property_manager", "community")


admin.site.register(BillingInformation)
admin.site.register(CustomerService)
