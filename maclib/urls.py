from django.urls import path

from . import views

app_name = "maclib"

urlpatterns = [
    path("mac-library/", views.MacListView.as_view(), name="mac_list"),
    path("mac-library/add/", views.MacAddView.as_view(), name="mac_add"),
    path("mac-library/import/", views.MacImportView.as_view(), name="mac_import"),
    path("mac-library/template.xlsx", views.MacTemplateView.as_view(), name="mac_template"),
    path("mac-library/<int:pk>/delete/", views.MacDeleteView.as_view(), name="mac_delete"),
]
