"""Add / Edit Credential."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from residents.models import Resident

from .choices import CredentialKind, CredentialScope
from .models import Credential


class _DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(format="%Y-%m-%dT%H:%M", attrs={"class": "form-control"})


class CredentialForm(forms.Form):
    resident = forms.ModelChoiceField(
        label=_("Resident"),
        queryset=Resident.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    kind = forms.ChoiceField(
        label=_("Type"), choices=CredentialKind.choices, widget=forms.RadioSelect, initial=CredentialKind.PIN
    )
    code = forms.CharField(
        label=_("PIN / Card Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    scope = forms.ChoiceField(
        label=_("Devices"),
        choices=CredentialScope.choices,
        widget=forms.RadioSelect,
        initial=CredentialScope.PUBLIC,
    )
    valid_from = forms.DateTimeField(
        label=_("Valid From"), required=False, widget=_DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    valid_until = forms.DateTimeField(
        label=_("Valid Until"), required=False, widget=_DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )

    def __init__(
        self, *args, actor, apartment, instance: Credential | None = None, personal_allowed=True, **kwargs
    ):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "resident": instance.resident_id,
                    "kind": instance.kind,
                    "code": instance.code,
                    "name": instance.name,
                    "scope": instance.scope,
                    "valid_from": instance.valid_from,
                    "valid_until": instance.valid_until,
                },
            )
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["resident"].queryset = (
            Resident.objects.for_actor(actor).filter(apartment=apartment).order_by("family_master_id", "pk")
        )
        self.fields["resident"].label_from_instance = lambda r: (
            r.display_name + ("" if r.family_master_id is None else " (" + str(_("family member")) + ")")
        )
        if instance is not None:
            # The credential stays with its end user; a new one is added for another.
            self.fields["resident"].disabled = True
            self.fields["resident"].required = False
        if not personal_allowed:
            self.fields["scope"].choices = [(CredentialScope.PUBLIC, CredentialScope.PUBLIC.label)]
            self.fields["scope"].help_text = _(
                "This community's Permission Of Access Control Management is Only Public Area."
            )

    def credential_fields(self) -> dict:
        data = self.cleaned_data
        return {k: data[k] for k in ("kind", "code", "name", "scope", "valid_from", "valid_until")}
