from django.urls import path

from . import views

app_name = "pmportal"

urlpatterns = [
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
