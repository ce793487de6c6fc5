"""Device API URLs of the logs, included by the device service's URLconf and the portal's."""

from django.urls import path, re_path

from . import api

app_name = "logs_api"

urlpatterns = [
    path("device-api/v1/events", api.events, name="events"),
    re_path(
        r"^device-api/v1/events/(?P<kind>door|call)/(?P<event_id>[A-Za-z0-9._:\-]{1,64})/image$",
        api.event_image,
        name="event_image",
    ),
]
