from django.urls import path

from . import import_views
from .views import cameras, intercoms, maintenance, registration

app_name = "devices"

urlpatterns = [
    # Community node: every intercom device of the community, searchable.
    path(
        "communities/<int:community_pk>/devices/",
        intercoms.CommunityDevicesView.as_view(),
        name="community_devices",
    ),
    path(
        "communities/<int:community_pk>/cameras/",
        cameras.CommunityCamerasView.as_view(),
        name="community_cameras",
    ),
    # Public Area node.
    path(
        "communities/<int:community_pk>/public-area/devices/",
        intercoms.PublicDevicesView.as_view(),
        name="public_devices",
    ),
    path(
        "communities/<int:community_pk>/public-area/devices/add/",
        intercoms.DeviceEditView.as_view(),
        name="public_device_add",
    ),
    path(
        "communities/<int:community_pk>/public-area/cameras/",
        cameras.PublicCamerasView.as_view(),
        name="public_cameras",
    ),
    path(
        "communities/<int:community_pk>/public-area/cameras/add/",
        cameras.CameraEditView.as_view(),
        name="public_camera_add",
    ),
    # Building node.
    path(
        "buildings/<int:building_pk>/devices/",
        intercoms.BuildingDevicesView.as_view(),
        name="building_devices",
    ),
    path(
        "buildings/<int:building_pk>/devices/add/",
        intercoms.DeviceEditView.as_view(),
        name="building_device_add",
    ),
    path(
        "buildings/<int:building_pk>/cameras/", cameras.BuildingCamerasView.as_view(), name="building_cameras"
    ),
    path(
        "buildings/<int:building_pk>/cameras/add/",
        cameras.CameraEditView.as_view(),
        name="building_camera_add",
    ),
    # Apartment: the lists are on the apartment's page.
    path(
        "apartments/<int:apartment_pk>/devices/add/",
        intercoms.DeviceEditView.as_view(),
        name="apartment_device_add",
    ),
    path(
        "apartments/<int:apartment_pk>/cameras/add/",
        cameras.CameraEditView.as_view(),
        name="apartment_camera_add",
    ),
    # One device or camera, wherever it is.
    path("devices/<int:pk>/", intercoms.DeviceDetailView.as_view(), name="device_detail"),
    # First contact: a device's pending registrations, the installer's provisioning code.
    path(
        "registrations/<int:pk>/adopt/",
        registration.RegistrationAdoptView.as_view(),
        name="registrationrequest_adopt",
    ),
    path(
        "registrations/<int:pk>/reject/",
        registration.RegistrationRejectView.as_view(),
        name="registrationrequest_reject",
    ),
    path("provisioning/", registration.ProvisioningCodeView.as_view(), name="provisioningcode_detail"),
    path(
        "provisioning/regenerate/",
        registration.ProvisioningCodeRegenerateView.as_view(),
        name="provisioningcode_regenerate",
    ),
    path("devices/<int:pk>/edit/", intercoms.DeviceEditView.as_view(), name="device_edit"),
    path("devices/<int:pk>/delete/", intercoms.DeviceDeleteView.as_view(), name="device_delete"),
    # Remote maintenance: the Settings dialog and its buttons, and the relay to the device's web UI.
    path("devices/<int:pk>/settings/", maintenance.DeviceSettingsView.as_view(), name="device_settings"),
    path("devices/<int:pk>/reboot/", maintenance.DeviceRebootView.as_view(), name="device_reboot"),
    path("devices/<int:pk>/reset/", maintenance.DeviceResetView.as_view(), name="device_reset"),
    path(
        "devices/<int:pk>/one-time-autop/",
        maintenance.DeviceOneTimeAutopView.as_view(),
        name="device_one_time_autop",
    ),
    path(
        "devices/<int:pk>/remote-control/",
        maintenance.DeviceRemoteControlView.as_view(),
        name="device_remote_control",
    ),
    path("devices/remote/<str:token>/", maintenance.DeviceRemoteView.as_view(), name="device_remote"),
    path(
        "devices/remote/<str:token>/<path:path>",
        maintenance.DeviceRemoteView.as_view(),
        name="device_remote_path",
    ),
    path("cameras/<int:pk>/edit/", cameras.CameraEditView.as_view(), name="camera_edit"),
    path("cameras/<int:pk>/delete/", cameras.CameraDeleteView.as_view(), name="camera_delete"),
    # The residents and devices template (it creates devices: above the residents app).
    path("template.xlsx", import_views.TemplateDownloadView.as_view(), name="template"),
    path(
        "communities/<int:community_pk>/import/",
        import_views.CommunityImportView.as_view(),
        name="community_import",
    ),
    path("imports/<int:pk>/", import_views.ResidentImportDetailView.as_view(), name="residentimport_detail"),
    path(
        "imports/<int:pk>/confirm/",
        import_views.ResidentImportConfirmView.as_view(),
        name="residentimport_confirm",
    ),
    path(
        "imports/<int:pk>/errors.xlsx",
        import_views.ResidentImportErrorsView.as_view(),
        name="residentimport_errors",
    ),
]
