from django.urls import path

from . import views

app_name = "residents"

urlpatterns = [
    path(
        "communities/<int:community_pk>/residents/",
        views.CommunityResidentsView.as_view(),
        name="community_residents",
    ),
    path(
        "buildings/<int:building_pk>/apartments/",
        views.BuildingApartmentsView.as_view(),
        name="building_apartments",
    ),
    path(
        "buildings/<int:building_pk>/apartments/add/", views.ApartmentEditView.as_view(), name="apartment_add"
    ),
    path("apartments/<int:pk>/", views.ApartmentDetailView.as_view(), name="apartment_detail"),
    path("apartments/<int:pk>/edit/", views.ApartmentEditView.as_view(), name="apartment_edit"),
    path("apartments/<int:pk>/delete/", views.ApartmentDeleteView.as_view(), name="apartment_delete"),
    path("apartments/<int:pk>/reset/", views.ApartmentResetView.as_view(), name="apartment_reset"),
    path(
        "apartments/<int:pk>/reset-password/",
        views.ApartmentPasswordResetView.as_view(),
        name="apartment_reset_password",
    ),
    path(
        "apartments/<int:apartment_pk>/family-members/add/",
        views.FamilyMemberEditView.as_view(),
        name="familymember_add",
    ),
    path("family-members/<int:pk>/edit/", views.FamilyMemberEditView.as_view(), name="familymember_edit"),
    path("end-users/<int:pk>/delete/", views.ResidentDeleteView.as_view(), name="resident_delete"),
]
