from django.urls import path

from . import api, views

app_name = "pmportal"

urlpatterns = [
    path("api/app/v1/community-settings", api.community_settings, name="app_community_settings"),
    path(
        "communities/<int:community_pk>/premium-controls/",
        views.PremiumControlsView.as_view(),
        name="premium_controls",
    ),
    path(
        "communities/<int:community_pk>/premium-controls/set/",
        views.PremiumControlSetView.as_view(),
        name="premium_control_set",
    ),
]
