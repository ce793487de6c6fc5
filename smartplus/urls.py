"""Root URLconf. Every portal URL is named `<app>:<model>_<action>` and sits in the access matrix."""

from django.contrib import admin
from django.urls import include, path

from smartplus.views import pages

urlpatterns = [
    # Devices first: the busiest URLs resolve in the fewest steps.
    path("", include("devices.api_urls")),
    path("", include("firmware.api_urls")),
    path("", include("logs.api_urls")),
    path("", include("access.api_urls")),
    path("", pages.home, name="home"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("hijack/", include("hijack.urls")),
    path("audit-log/", pages.AuditLogListView.as_view(), name="auditlog_list"),
    path("", include("accounts.urls")),
    path("", include("communities.urls")),
    path("", include("residents.urls")),
    path("", include("devices.urls")),
    path("", include("maclib.urls")),
    path("", include("firmware.urls")),
    path("", include("billing.urls")),
    path("", include("notifications.urls")),
    path("", include("access.urls")),
    path("", include("logs.urls")),
    path("", include("weather.urls")),
    path("", include("rentmanager.urls")),
    path("", include("pmportal.urls")),
]
