from django.urls import path

from . import views

app_name = "rentmanager"

urlpatterns = [
    path("rentmanager/", views.ConnectionListView.as_view(), name="connection_list"),
    path("rentmanager/add/", views.ConnectionEditView.as_view(), name="connection_add"),
    path("rentmanager/<int:pk>/", views.ConnectionDetailView.as_view(), name="connection_detail"),
    path("rentmanager/<int:pk>/edit/", views.ConnectionEditView.as_view(), name="connection_edit"),
    path("rentmanager/<int:pk>/sync/", views.ConnectionSyncView.as_view(), name="connection_sync"),
]
