from django.urls import path

from . import import_views, views

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
    # The credentials template: download, a community's import, the import's page.
    path(
        "credentials/template.xlsx", import_views.CredentialTemplateView.as_view(), name="credential_template"
    ),
    path(
        "communities/<int:community_pk>/credentials/import/",
        import_views.CredentialImportView.as_view(),
        name="credential_import",
    ),
    path(
        "credentials/imports/<int:pk>/",
        import_views.CredentialImportDetailView.as_view(),
        name="credentialimport_detail",
    ),
    path(
        "credentials/imports/<int:pk>/confirm/",
        import_views.CredentialImportConfirmView.as_view(),
        name="credentialimport_confirm",
    ),
    path(
        "credentials/imports/<int:pk>/errors.xlsx",
        import_views.CredentialImportErrorsView.as_view(),
        name="credentialimport_errors",
    ),
]
