from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    # Sub-accounts
    path("sub-accounts/add/", views.SubAccountEditView.as_view(), name="subaccount_add"),
    path("sub-accounts/<int:pk>/edit/", views.SubAccountEditView.as_view(), name="subaccount_edit"),
    path("sub-accounts/<int:pk>/delete/", views.SubAccountDeleteView.as_view(), name="subaccount_delete"),
    path(
        "sub-accounts/<int:pk>/reset-password/",
        views.SubAccountResetPasswordView.as_view(),
        name="subaccount_reset_password",
    ),
    # Property managers
    path("property-managers/add/", views.PropertyManagerEditView.as_view(), name="propertymanager_add"),
    path(
        "property-managers/<int:pk>/edit/",
        views.PropertyManagerEditView.as_view(),
        name="propertymanager_edit",
    ),
    path(
        "property-managers/<int:pk>/delete/",
        views.PropertyManagerDeleteView.as_view(),
        name="propertymanager_delete",
    ),
    path(
        "property-managers/<int:pk>/reset-password/",
        views.PropertyManagerResetPasswordView.as_view(),
        name="propertymanager_reset_password",
    ),
    path(
        "property-manager-assignments/<int:pk>/reset-app-password/",
        views.AppPasswordResetView.as_view(),
        name="propertymanagerassignment_reset_app_password",
    ),
    # Distributor
    path("installers/", views.InstallerListView.as_view(), name="installer_list"),
    path("installers/add/", views.InstallerEditView.as_view(), name="installer_add"),
    path("installers/<int:pk>/edit/", views.InstallerEditView.as_view(), name="installer_edit"),
    path(
        "installers/<int:pk>/reset-password/",
        views.InstallerResetPasswordView.as_view(),
        name="installer_reset_password",
    ),
    # Account menu
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "account/password-reminder/dismiss/",
        views.PasswordReminderDismissView.as_view(),
        name="password_reminder_dismiss",
    ),
    # The language menu: signed in or not (the login page has it too).
    path("account/language/", views.ui_language_view, name="ui_language"),
    path("account/time-zone/", views.TimeZoneView.as_view(), name="time_zone"),
    path("account/billing-information/", views.BillingInformationView.as_view(), name="billing_information"),
    path("account/customer-service/", views.CustomerServiceView.as_view(), name="customer_service"),
    path("account/account-setting/", views.AccountSettingView.as_view(), name="account_setting"),
]
