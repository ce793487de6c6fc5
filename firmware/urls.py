from django.urls import path

from . import views

app_name = "firmware"

urlpatterns = [
    # --- Firmware: the catalogue ---
    path("firmware/", views.FirmwareListView.as_view(), name="firmware_list"),
    path("firmware/<int:pk>/", views.FirmwareDetailView.as_view(), name="firmware_detail"),
    # --- Upgrade ---
    path("upgrades/", views.UpgradeListView.as_view(), name="upgrade_list"),
    path("upgrades/add/", views.UpgradeEditView.as_view(), name="upgrade_add"),
    path("upgrades/<int:pk>/", views.UpgradeDetailView.as_view(), name="upgrade_detail"),
    path("upgrades/<int:pk>/edit/", views.UpgradeEditView.as_view(), name="upgrade_edit"),
    path("upgrades/<int:pk>/delete/", views.UpgradeDeleteView.as_view(), name="upgrade_delete"),
]
