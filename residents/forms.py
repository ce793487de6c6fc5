"""Add APT / Edit APT (apartment + family master in one dialog) and the family member dialog."""

from __future__ import annotations

import json

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from communities.models import Building
from smartplus import phones
from smartplus.forms import PortalForm

from .models import Apartment, Resident
from .models.apartments import MAX_FLOOR, MAX_WEB_RELAY_ID
from .services import APARTMENT_FIELDS, RESIDENT_FIELDS
from .validators import apt_number_validator

FLOOR_CHOICES = [(str(n), str(n)) for n in range(1, MAX_FLOOR + 1)]
PHONE_FIELDS = ("mobile_number", "landline1", "landline2", "landline3")
RESIDENT_REQUIRED = ("first_name", "last_name")


def calling_codes_json() -> str:
    """Country code -> "+NN", for the calling code shown before the phone inputs."""
    codes = {}
    for code, _name in countries:
        number = phonenumbers.country_code_for_region(code)
        if number:
            codes[code] = f"+{number}"
    return json.dumps(codes)


def _resident_fields() -> dict[str, forms.Field]:
    fields = forms.fields_for_model(Resident, fields=RESIDENT_FIELDS)
    fields["accessible_floors"] = forms.MultipleChoiceField(
        label=_("Accessible Floors"),
        choices=FLOOR_CHOICES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Floors the lift takes this user to."),
    )
    for name in PHONE_FIELDS:
        fields[name].widget.attrs.update(inputmode="tel", autocomplete="tel-national")
    return fields


def _floors_in(value) -> list[str]:
    return [f for f in (value or "").split(",") if f]


class ResidentFieldsMixin:
    """Resident fields shared by both dialogs; values go to the services as plain dicts."""

    @property
    def calling_code(self) -> str:
        return phones.calling_code(self["country"].value())

    def resident_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in RESIDENT_FIELDS if name in self.fields}
        data["accessible_floors"] = ",".join(
            sorted(self.cleaned_data.get("accessible_floors") or [], key=int)
        )
        for name in RESIDENT_FIELDS:
            if name in self.fields and self.fields[name].disabled:
                data.pop(name)
        return data


class ApartmentForm(ResidentFieldsMixin, PortalForm):
    """The spec's Add APT / Edit APT dialog: Apartment, then Resident ("Add Resident Later").
    A subclass adds fields between the two (`added_fields`): the Basic plan's indoor monitor
    (devices.forms.ApartmentWithMonitorForm, through `hooks.apartment_add_dialogs`)."""

    asks_indoor_monitor = False

    def added_fields(self) -> dict[str, forms.Field]:
        return {}

    def __init__(self, *args, community, master: Resident | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.master = master
        apartment_fields = forms.fields_for_model(Apartment, fields=APARTMENT_FIELDS)
        apartment_fields["floor"] = forms.TypedChoiceField(
            label=_("Floor"),
            choices=[("", "--"), *FLOOR_CHOICES],
            coerce=int,
            empty_value=None,
            required=False,
            help_text=Apartment._meta.get_field("floor").help_text,
        )
        apartment_fields["web_relay_id"] = forms.TypedChoiceField(
            label=_("Web Relay ID"),
            choices=[(str(n), str(n)) for n in range(MAX_WEB_RELAY_ID + 1)],
            coerce=int,
            initial=0,
        )
        apartment_fields["number"].widget.attrs.update(placeholder=_("e.g. 101 or 2#123"), inputmode="text")
        # Model validators do not reach a plain form's fields; the APT format is checked here too,
        # so it is reported together with the other fields' errors (the service checks it again).
        apartment_fields["number"].validators.append(apt_number_validator)
        fields: dict[str, forms.Field] = {}
        if self.instance is not None:
            fields["building"] = forms.ModelChoiceField(
                label=_("Building"),
                queryset=Building.objects.for_actor(self.actor).filter(community=community),
                initial=self.instance.building_id,
                empty_label=None,
            )
        fields.update(apartment_fields)
        if master is None:
            fields["add_resident_later"] = forms.BooleanField(
                label=_("Add Resident Later"), required=False, initial=self.instance is not None
            )
        fields.update(self.added_fields())
        fields.update(_resident_fields())
        self.fields = fields
        for name in RESIDENT_FIELDS:
            self.fields[name].required = False
        for name in RESIDENT_REQUIRED:
            # Required unless "Add Resident Later": marked like a required field, checked in clean().
            self.fields[name].show_required = True
        if self.instance is not None and not self.is_bound:
            for name in APARTMENT_FIELDS:
                self.initial[name] = getattr(self.instance, name)
        if master is not None and not self.is_bound:
            for name in RESIDENT_FIELDS:
                self.initial[name] = getattr(master, name)
            self.initial["accessible_floors"] = _floors_in(master.accessible_floors)
        self._style()

    @property
    def apartment_field_names(self) -> list[str]:
        return [n for n in ("building", *APARTMENT_FIELDS) if n in self.fields]

    @property
    def resident_field_names(self) -> list[str]:
        return list(RESIDENT_FIELDS)

    def adds_resident(self) -> bool:
        return self.master is not None or not self.cleaned_data.get("add_resident_later")

    def clean(self):
        cleaned = super().clean()
        if not self.adds_resident():
            # "Add Resident Later" hides the resident fields and the service ignores them: what
            # they still hold must not stop the APT with errors at fields the user cannot see.
            for name in RESIDENT_FIELDS:
                self._errors.pop(name, None)
        else:
            for name in RESIDENT_REQUIRED:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, _("This field is required."))
        return cleaned

    def apartment_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in APARTMENT_FIELDS}


class FamilyMemberForm(ResidentFieldsMixin, PortalForm):
    """New / Edit family member. The email cannot be edited once set."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_resident_fields())
        if self.instance is not None:
            if not self.is_bound:
                for name in RESIDENT_FIELDS:
                    self.initial[name] = getattr(self.instance, name)
                self.initial["accessible_floors"] = _floors_in(self.instance.accessible_floors)
            if self.instance.email:
                self.fields["email"].disabled = True
                # A disabled field takes its value from `initial`, bound or not: without this a
                # form that comes back with errors shows the locked email empty.
                self.initial["email"] = self.instance.email
                self.fields["email"].help_text = _("The email of a family member cannot be edited.")
        self._style()

    @property
    def resident_field_names(self) -> list[str]:
        return list(RESIDENT_FIELDS)
