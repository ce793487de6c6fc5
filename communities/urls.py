from django.urls import path

from . import views

app_name = "communities"

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("communities/add/", views.CommunityEditView.as_view(), name="community_add"),
    path("communities/<int:pk>/", views.CommunityDetailView.as_view(), name="community_detail"),
    path("communities/<int:pk>/edit/", views.CommunityEditView.as_view(), name="community_edit"),
    path("communities/<int:pk>/delete/", views.CommunityDeleteView.as_view(), name="community_delete"),
    path(
        "communities/<int:pk>/property-managers/",
        views.CommunityPropertyManagersView.as_view(),
        name="community_property_managers",
    ),
    path(
        "communities/<int:community_pk>/buildings/add/", views.BuildingEditView.as_view(), name="building_add"
    ),
    path("buildings/<int:pk>/edit/", views.BuildingEditView.as_view(), name="building_edit"),
    path("buildings/<int:pk>/delete/", views.BuildingDeleteView.as_view(), name="building_delete"),
]
