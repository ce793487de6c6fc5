"""The Add Device / Edit Device dialog: one form whose fields follow the place and the device type.

The form only types the input; every rule (MAC library, types per place, relay names, offline
solution, buildings) is devices.services', whose errors are keyed by these field names.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from residents.forms import ApartmentForm
from residents.selectors import buildings_of
from smartplus.forms import PortalForm

from .choices import (
    DOOR_PHONE_MODELS,
    DOOR_PHONES,
    PLACE_TYPES,
    AccessMethod,
    ContactDisplay,
    DeviceType,
    NetworkGroup,
    Place,
    RelayKind,
)
from .models import MAX_RELAYS, Device, Relay
from .services import DEVICE_FIELDS

ON_OFF = [("0", _("Off")), ("1", _("On"))]
YES_NO = [("1", _("Yes")), ("0", _("No"))]
RELAY_PARTS = ("enabled", "name", "dtmf_code", "access_methods")
SECURITY = "security_relay"
NAME_MAX = Device._meta.get_field("name").max_length
RELAY_NAME_MAX = Relay._meta.get_field("name").max_length
DTMF_MAX = Relay._meta.get_field("dtmf_code").max_length


def _types(types) -> str:
    """A `data-types` value: the device type codes a field belongs to."""
    return " ".join(str(int(t)) for t in types)


DOOR_PHONE_TYPES = _types(sorted(DOOR_PHONES))
INDOOR_MONITOR_TYPES = _types([DeviceType.INDOOR_MONITOR])


def _bool(value) -> bool:
    return value in (True, "1", 1)


def _relay_fields(prefix: str, label: str) -> dict[str, forms.Field]:
    fields = {
        f"{prefix}_enabled": forms.TypedChoiceField(
            label=label,
            choices=ON_OFF,
            coerce=_bool,
            initial="1",
            required=False,
            empty_value=False,
            widget=forms.RadioSelect,
        ),
        f"{prefix}_name": forms.CharField(
            label=_("Relay Name"),
            max_length=RELAY_NAME_MAX,
            required=False,
            help_text=_("For example where the door is: Front Door."),
        ),
        f"{prefix}_dtmf_code": forms.CharField(label=_("DTMF Code"), max_length=DTMF_MAX, required=False),
        f"{prefix}_access_methods": forms.MultipleChoiceField(
            label=_("Access Method"),
            choices=AccessMethod.choices,
            required=False,
            initial=list(AccessMethod.values),  # a new relay opens with every method ticked
            widget=forms.CheckboxSelectMultiple,
        ),
    }
    # Required while the relay is On: marked like a required field, checked by the service.
    fields[f"{prefix}_name"].show_required = True
    return fields


class DeviceForm(PortalForm):
    """Add Device / Edit Device of the public area, a building or an apartment.

    `relays` (how many of Relay1-4 the device has) and `security_relay` (whether it has the SR01
    block) say which relay blocks count: the dialog's Add Relay / Add Security Relay buttons set
    them, and without JavaScript they are a plain select and checkbox.
    """

    def __init__(self, *args, place: str, community, offline: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.place = place
        self.community = community
        self.offline = offline
        device: Device | None = self.instance
        self.fields = self._build_fields()
        if device is not None and not self.is_bound:
            self.initial.update(self._initial_of(device))
        self._style()

    # --- fields ------------------------------------------------------------------------------

    def _build_fields(self) -> dict[str, forms.Field]:
        place = self.place
        # An apartment's device is most often its indoor monitor.
        default_type = DeviceType.INDOOR_MONITOR if place == Place.APARTMENT else PLACE_TYPES[place][0]
        fields: dict[str, forms.Field] = {
            "device_type": forms.TypedChoiceField(
                label=_("Device Type"),
                choices=[(t.value, t.label) for t in PLACE_TYPES[place]],
                coerce=int,
                initial=default_type.value,
            ),
            "mac": forms.CharField(
                label=_("MAC"),
                max_length=32,
                help_text=_("12 hex digits, with or without “:” or “-”, e.g. 0C:11:05:08:93:CA."),
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            ),
        }
        fields["chosen_model"] = forms.ChoiceField(
            label=_("Model"),
            choices=[("", _("Unknown")), *((m.value, m.label) for m in DOOR_PHONE_MODELS)],
            required=False,
            help_text=_(
                "Counts until the device reports its firmware; then the reported model counts. "
                "Third-party cameras link to R29 door phones."
            ),
        )
        if self.offline:
            fields["internet_access"] = forms.TypedChoiceField(
                label=_("Does the device have internet access?"),
                choices=YES_NO,
                coerce=_bool,
                initial="1",
                required=False,
                empty_value=True,
                widget=forms.RadioSelect,
                help_text=_(
                    "Select No when the door phone is not connected to the Internet: its calls "
                    "are transferred to the SmartPlus app through an indoor monitor."
                ),
            )
            # A plain text input: the service checks the address, and only when No is selected.
            fields["offline_ip"] = forms.CharField(
                label=_("IP Address"),
                max_length=39,
                required=False,
                help_text=_(
                    "The static IP address of the indoor monitor that transfers calls for this door phone."
                ),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "192.168.1.100"}),
            )
        fields["network_group"] = forms.TypedChoiceField(
            label=_("Network Group"),
            choices=NetworkGroup.choices,
            coerce=int,
            initial=NetworkGroup.GROUP_1.value,
            help_text=_(
                "Devices in the same local network share a group (they call by IP); devices "
                "in different networks must not (they call by SIP)."
            ),
        )
        if place == Place.BUILDING:
            fields["contact_display"] = forms.ChoiceField(
                label=_("Contact Display Settings"),
                choices=ContactDisplay.choices,
                initial=ContactDisplay.ALL.value,
                required=False,  # the service takes the last option when none is chosen
                widget=forms.RadioSelect,
            )
        fields["name"] = forms.CharField(label=_("Device Name"), max_length=NAME_MAX)
        if place == Place.APARTMENT:
            fields["arming_function"] = forms.BooleanField(
                label=_("Arming Function"),
                required=False,
                help_text=_("The arming icon appears on the SmartPlus app, for arming and disarming."),
            )
        if place == Place.APARTMENT and self.offline:
            fields["works_offline"] = forms.BooleanField(
                label=_("Works offline"),
                required=False,
                help_text=_(
                    "Transfers calls from offline door phones to the SmartPlus app; an "
                    "apartment has one such indoor monitor."
                ),
            )
        if place == Place.PUBLIC:
            fields["all_buildings"] = forms.BooleanField(
                label=_("All Buildings"), required=False, initial=True
            )
            self._buildings = buildings_of(actor=self.actor, community=self.community)
            choices = [(b.pk, b.name) for b in self._buildings]
            fields["buildings"] = forms.TypedMultipleChoiceField(
                label=_("Buildings"),
                choices=choices,
                coerce=int,
                required=False,
                widget=forms.SelectMultiple(attrs={"size": min(max(len(choices), 3), 8)}),
                help_text=_("The buildings whose residents use the device."),
            )
        fields["relays"] = forms.TypedChoiceField(
            label=_("Relays"),
            choices=[(str(n), str(n)) for n in range(1, MAX_RELAYS + 1)],
            coerce=int,
            initial="1",
            help_text=gettext("A device has up to %(count)s relays.") % {"count": MAX_RELAYS},
        )
        for index in range(1, MAX_RELAYS + 1):
            fields.update(_relay_fields(f"relay{index}", gettext("Relay%(index)s") % {"index": index}))
        fields[SECURITY] = forms.BooleanField(
            label=_("Security Relay"),
            required=False,
            help_text=_("When the door phone is connected to an Akuvox SR01 security relay."),
        )
        fields.update(_relay_fields(SECURITY, gettext("Security Relay")))
        return fields

    def _initial_of(self, device: Device) -> dict:
        initial = {name: getattr(device, name) for name in DEVICE_FIELDS if name in self.fields}
        initial["mac"] = device.mac_address.mac
        if "internet_access" in self.fields:
            initial["internet_access"] = "1" if device.internet_access else "0"
        if "buildings" in self.fields:
            initial["buildings"] = [b.pk for b in device.buildings.all()]
        relays = [r for r in device.relays.all() if r.kind == RelayKind.RELAY]
        initial["relays"] = str(max(1, min(len(relays), MAX_RELAYS)))
        for relay in relays[:MAX_RELAYS]:
            initial.update(self._relay_initial(f"relay{relay.index}", relay))
        security = next((r for r in device.relays.all() if r.kind == RelayKind.SECURITY), None)
        initial[SECURITY] = security is not None
        if security is not None:
            initial.update(self._relay_initial(SECURITY, security))
        return initial

    @staticmethod
    def _relay_initial(prefix: str, relay: Relay) -> dict:
        return {
            f"{prefix}_enabled": "1" if relay.enabled else "0",
            f"{prefix}_name": relay.name,
            f"{prefix}_dtmf_code": relay.dtmf_code,
            f"{prefix}_access_methods": relay.method_list,
        }

    # --- layout (the templates place the fields by these groups) ------------------------------

    def relay_blocks(self) -> list[dict]:
        count = self._relay_count()
        return [
            {
                "index": index,
                "prefix": f"relay{index}",
                "fields": [self[f"relay{index}_{part}"] for part in RELAY_PARTS],
                "shown": index <= count,
            }
            for index in range(1, MAX_RELAYS + 1)
        ]

    def security_block(self) -> dict:
        return {"prefix": SECURITY, "fields": [self[f"{SECURITY}_{part}"] for part in RELAY_PARTS]}

    @property
    def door_phone_types(self) -> str:
        return DOOR_PHONE_TYPES

    @property
    def indoor_monitor_types(self) -> str:
        return INDOOR_MONITOR_TYPES

    def _relay_count(self) -> int:
        raw = self["relays"].value()
        try:
            return min(max(int(raw), 1), MAX_RELAYS)
        except (TypeError, ValueError):
            return 1

    # --- cleaning -----------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        count = cleaned.get("relays") or 1
        # Blocks the dialog does not show (relays past the count, a security relay not added)
        # are not sent to the service: what they still hold must not stop the form either.
        for index in range(count + 1, MAX_RELAYS + 1):
            for part in RELAY_PARTS:
                self._errors.pop(f"relay{index}_{part}", None)
        if not cleaned.get(SECURITY):
            for part in RELAY_PARTS:
                self._errors.pop(f"{SECURITY}_{part}", None)
        if cleaned.get("all_buildings", True):
            self._errors.pop("buildings", None)
        return cleaned

    def _relay_data(self, prefix: str) -> dict:
        return {
            "enabled": bool(self.cleaned_data.get(f"{prefix}_enabled")),
            "name": self.cleaned_data.get(f"{prefix}_name") or "",
            "dtmf_code": self.cleaned_data.get(f"{prefix}_dtmf_code") or "",
            "access_methods": list(self.cleaned_data.get(f"{prefix}_access_methods") or []),
        }

    def device_fields(self) -> dict:
        """The service's `fields`: only those this dialog has (the service defaults the rest)."""
        data = {name: self.cleaned_data.get(name) for name in DEVICE_FIELDS if name in self.fields}
        if "offline_ip" in data:
            data["offline_ip"] = (data["offline_ip"] or "").strip() or None
        return data

    def relay_list(self) -> list[dict]:
        count = self.cleaned_data.get("relays") or 1
        return [self._relay_data(f"relay{index}") for index in range(1, count + 1)]

    def security_relay_data(self) -> dict | None:
        return self._relay_data(SECURITY) if self.cleaned_data.get(SECURITY) else None

    def chosen_buildings(self) -> list:
        """The chosen buildings of a public device ([] with All Buildings: the service ignores them)."""
        if self.place != Place.PUBLIC or self.cleaned_data.get("all_buildings"):
            return []
        chosen = set(self.cleaned_data.get("buildings") or [])
        return [b for b in self._buildings if b.pk in chosen]


# --- Add APT of a Basic community: the apartment with its indoor monitor -------------------------

MONITOR_RELAYS = (1, 2)


def _monitor_fields() -> dict[str, forms.Field]:
    """The Add APT form's "Device" block of a Basic community: its indoor monitor (spec items 7-11)."""
    fields: dict[str, forms.Field] = {
        "monitor_mac": forms.CharField(
            label=_("Device"),
            max_length=32,
            help_text=_("The indoor monitor's MAC address, from your MAC library."),
            widget=forms.TextInput(attrs={"placeholder": _("MAC, e.g. 0C1105A1B2C3"), "autocomplete": "off"}),
        ),
        "monitor_name": forms.CharField(
            label=_("Device Name"),
            max_length=Device._meta.get_field("name").max_length,
            help_text=_("Name the device to distinguish it from others."),
        ),
        "monitor_network_group": forms.TypedChoiceField(
            label=_("Network Group"),
            choices=NetworkGroup.choices,
            coerce=int,
            initial=NetworkGroup.GROUP_1,
            help_text=_("Devices in the same building need to be set up in the same network group."),
        ),
        "monitor_arming_function": forms.BooleanField(
            label=_("Arming Function"),
            required=False,
            help_text=_("Shows the arming icon in the SmartPlus app for arming and disarming."),
        ),
    }
    for i in MONITOR_RELAYS:
        fields[f"monitor_relay{i}_enabled"] = forms.BooleanField(
            label=gettext("Relay%(index)s") % {"index": i}, required=False
        )
        fields[f"monitor_relay{i}_name"] = forms.CharField(
            label=_("Relay Name"),
            max_length=Relay._meta.get_field("name").max_length,
            required=False,
            help_text=_("Required when the relay is On; e.g. the door it opens."),
        )
    return fields


class ApartmentWithMonitorForm(ApartmentForm):
    """Add APT of a community whose feature plan needs an indoor monitor in every apartment: the
    dialog's "Device" block (spec items 7-11) between the apartment and the resident."""

    asks_indoor_monitor = True

    def added_fields(self) -> dict[str, forms.Field]:
        return _monitor_fields()

    @property
    def monitor_field_names(self) -> list[str]:
        return [n for n in ("monitor_mac", "monitor_name", "monitor_network_group") if n in self.fields]

    def indoor_monitor_data(self) -> dict:
        """The `indoor_monitor` argument of services.apartment_create_with_indoor_monitor."""
        data = self.cleaned_data
        return {
            "mac": data["monitor_mac"],
            "fields": {
                "name": data["monitor_name"],
                "network_group": data["monitor_network_group"],
                "arming_function": data["monitor_arming_function"],
            },
            "relays": [
                {
                    "enabled": data[f"monitor_relay{i}_enabled"],
                    "name": data[f"monitor_relay{i}_name"],
                    "dtmf_code": "",
                    "access_methods": [],
                }
                for i in MONITOR_RELAYS
            ],
        }
