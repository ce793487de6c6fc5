from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path(
        "communities/<int:community_pk>/credentials/",
        views.CommunityCredentialsView.as_view(),
        name="community_credentials",
    ),
    path(
        "communities/<int:community_pk>/credentials/bulk-delete/",
        views.CredentialBulkDeleteView.as_view(),
        name="credential_bulk_delete",
    ),
    path(
        "apartments/<int:apartment_pk>/credentials/",
        views.ApartmentCredentialsView.as_view(),
        name="apartment_credentials",
    ),
    path(
        "apartments/<int:apartment_pk>/credentials/add/",
        views.CredentialEditView.as_view(),
        name="credential_add",
    ),
    path("credentials/<int:pk>/edit/", views.CredentialEditView.as_view(), name="credential_edit"),
    path("credentials/<int:pk>/delete/", views.CredentialDeleteView.as_view(), name="credential_delete"),
]
