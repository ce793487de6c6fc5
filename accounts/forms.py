"""Account forms: sub-accounts, property managers, installers, and the account menu dialogs."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from smartplus.forms import PortalForm, ScopedModelForm
from smartplus.timezones import time_zone_choices
from smartplus.validators import phone_validator

from .choices import Language
from .models import BillingInformation, CustomerService


class SubAccountForm(PortalForm):
    username = forms.CharField(label=_("Account"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32, validators=[phone_validator])

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None and not self.is_bound:
            self.initial.update(username=instance.username, email=instance.email, phone=instance.phone)


class PropertyManagerForm(PortalForm):
    first_name = forms.CharField(label=_("First Name"), max_length=64)
    last_name = forms.CharField(label=_("Last Name"), max_length=64)
    email = forms.EmailField(label=_("Email"))
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices, initial=Language.ENGLISH)
    monthly_password_reminder = forms.BooleanField(
        label=_("Monthly Password Update Reminder"), required=False
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None:
            # The login email of an existing property manager is not edited here.
            del self.fields["email"]
            if not self.is_bound:
                self.initial.update(
                    first_name=instance.first_name,
                    last_name=instance.last_name,
                    language=instance.language,
                    monthly_password_reminder=instance.monthly_password_reminder,
                )


class InstallerForm(PortalForm):
    username = forms.CharField(label=_("Account"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First Name"), max_length=64, required=False)
    last_name = forms.CharField(label=_("Last Name"), max_length=64, required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32, validators=[phone_validator])
    account_access_enabled = forms.BooleanField(
        label=_("Account access"),
        required=False,
        help_text=_("Lets the installer grant you permission to log in to its account."),
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None:
            self.fields["username"].disabled = True
            if not self.is_bound:
                self.initial.update({f: getattr(instance, f) for f in self.fields})
            # A disabled field takes its value from `initial` also when the form is posted (the
            # browser sends none): without it every save of Edit Installer fails "required".
            self.initial["username"] = instance.username


class OriginalPasswordForm(PortalForm):
    original_password = forms.CharField(label=_("Original Password"), widget=forms.PasswordInput)


class NewPasswordForm(PortalForm):
    new_password1 = forms.CharField(
        label=_("New Password"), widget=forms.PasswordInput, help_text=password_validators_help_text_html()
    )
    new_password2 = forms.CharField(label=_("Confirm Password"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords do not match."))
        return data


class TimeZoneForm(PortalForm):
    time_zone = forms.ChoiceField(label=_("Time Zone"), choices=time_zone_choices)


class BillingInformationForm(ScopedModelForm):
    class Meta:
        model = BillingInformation
        fields = ("company", "attn", "street", "city", "post_code", "country", "tel", "fax", "email")
        labels = {"street": _("Address (Street)")}


class CustomerServiceForm(ScopedModelForm):
    class Meta:
        model = CustomerService
        fields = ("phone", "email", "receive_feedback")
        help_texts = {"receive_feedback": _("End users' feedback is sent to the email above.")}


class AccountSettingForm(PortalForm):
    permission_granted = forms.TypedChoiceField(
        label=_("Permission Granted"),
        choices=[(True, _("On")), (False, _("Off"))],
        coerce=lambda v: v in (True, "True"),
        widget=forms.RadioSelect,
        help_text=_(
            "Give authorisation to your distributor to access your account. "
            "If you turn off the feature, your distributor can't help you."
        ),
    )
