from django.urls import path

from . import views

app_name = "maclib"

# fmt: off
urlpatterns = [
    path("mac-library/", views.MacListView.as_view(), name="mac_list"),
    path("mac-library/add/", views.MacAddView.as_view(), name="mac_add"),
    path("mac-library/import/", views.MacImportView.as_view(), name="mac_import"),
    path("mac-library/imports/<int:pk>/", views.MacImportDetailView.as_view(), name="macimport_detail"),
    path(
        "mac-library/imports/<int:pk>/confirm/",
        views.MacImportConfirmView.as_view(),
        name="macimport_confirm",
    ),
    path(
        "mac-library/imports/<int:pk>/errors.xlsx",
        views.MacImportErrorsView.as_view(),
        name="macimport_errors",
    ),
    path("mac-library/template.xlsx", views.MacTemplateView.as_view(), name="mac_template"),
    path("mac-library/<int:pk>/delete/", views.MacDeleteView.as_view(), name="mac_delete"),
]
# fmt: on
