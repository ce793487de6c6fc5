"""Communities in the super manager's admin. The super manager may change every setting,
including the ones installers cannot change once set; the same service enforces the rest."""

from django.contrib import admin
from django.core.exceptions import ValidationError

from smartplus.admin import ReadOnlyAdmin

from . import services
from .models import Building, Community


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ("name", "installer", "feature_plan", "number_of_apartments", "home_automation", "created")
    list_filter = ("feature_plan", "home_automation", "charge_mode")
    search_fields = ("name", "installer__username", "city")
    list_select_related = ("installer",)
    raw_id_fields = ("installer",)

    def save_model(self, request, obj, form, change):
        fields = {name: getattr(obj, name) for name in services.SETTINGS_FIELDS}
        try:
            if change:
                services.community_update(actor=request.user, community=obj, **fields)
            else:
                obj.full_clean()
                obj.save()
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), level="error")


@admin.register(Building)
class BuildingAdmin(ReadOnlyAdmin):
    """Read-only: buildings are added, renamed and deleted on the Resident and Device page."""

    list_display = ("name", "community", "created")
    search_fields = ("name", "community__name")
    list_select_related = ("community",)
