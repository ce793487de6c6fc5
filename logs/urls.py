"""The logs pages of a community (the device API's events are logs.api_urls)."""

from django.urls import path

from . import views

app_name = "logs"

urlpatterns = [
    path("communities/<int:community_pk>/logs/doors/", views.DoorLogView.as_view(), name="door_log"),
    path("communities/<int:community_pk>/logs/calls/", views.CallHistoryView.as_view(), name="call_history"),
    path(
        "communities/<int:community_pk>/logs/images/",
        views.CapturedImagesView.as_view(),
        name="captured_images",
    ),
    path(
        "communities/<int:community_pk>/logs/images/<int:pk>.jpg",
        views.CapturedImageFileView.as_view(),
        name="capturedimage_file",
    ),
]
