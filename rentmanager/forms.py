"""The super manager's Rent Manager link form: credentials, Test connection, the property picker."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Installer
from smartplus.forms import PortalForm


class ConnectionForm(PortalForm):
    installer = forms.ModelChoiceField(queryset=Installer.objects.none(), label=_("Installer account"))
    base_url = forms.URLField(
        assume_scheme="https",
        label=_("Base URL"),
        help_text=_("The company's API address, https://<company code>.api.rentmanager.com"),
    )
    username = forms.CharField(label=_("API user"), max_length=128)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again; leave blank to keep the stored one."),
    )
    location_id = forms.IntegerField(label=_("Location ID"), required=False, min_value=1)
    properties = forms.MultipleChoiceField(
        label=_("Properties to sync"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args, actor=None, instance=None, property_choices=(), **kwargs):
        super().__init__(*args, actor=actor, instance=instance, **kwargs)
        # The installers the actor may see (only the super manager opens this page, but the
        # choices come through the same scoping as every other picker).
        installers = Installer.objects.for_actor(actor).order_by("username")
        if instance is not None:
            installers = installers.filter(pk=instance.installer_id)
            self.fields["installer"].disabled = True
        else:
            installers = installers.filter(rentmanager_connection__isnull=True)
            self.fields["password"].help_text = _("Stored encrypted and never shown again.")
        self.fields["installer"].queryset = installers
        self.fields["properties"].choices = list(property_choices)
