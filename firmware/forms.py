"""Add / Edit Upgrade: a model, a firmware of it, its devices, the update timing and the reset.

The model decides the other choices: the firmware of that model in the catalogue, and the devices
of that model across the actor's communities (`selectors.upgrade_devices`). A device outside them is
not a valid choice, so it is refused at the field; the service checks everything again.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from devices.models import Device
from smartplus.forms import PortalForm

from . import selectors
from .choices import Timing
from .models import Firmware

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class FirmwareChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Firmware) -> str:
        return obj.version


class UpgradeForm(PortalForm):
    # Chosen on the page above the form (changing it reloads the choices below); carried here.
    model = forms.ChoiceField(
        label="Model",
        widget=forms.HiddenInput,
        error_messages={"required": "Select a model.", "invalid_choice": "Select a model."},
    )
    firmware = FirmwareChoiceField(
        label="Firmware",
        queryset=Firmware.objects.none(),
        empty_label="Select a firmware",
        error_messages={"invalid_choice": "Select a firmware of the chosen model."},
        widget=forms.Select(attrs={"data-testid": "upgrade-firmware"}),
    )
    # Rendered as the device table of the template (name, community, location, MAC, ...).
    devices = forms.ModelMultipleChoiceField(
        label="Devices",
        queryset=Device.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select at least one device.",
            "invalid_choice": "Device %(value)s is not a device of this model in your communities.",
            "invalid_pk_value": "“%(pk)s” is not a device.",
        },
    )
    timing = forms.ChoiceField(
        label="Update Timing", choices=Timing.choices, initial=Timing.NOW, widget=forms.RadioSelect
    )
    # Typed in the account's time zone (active for the request); stored in UTC.
    scheduled_at = forms.DateTimeField(
        label="Upgrade Time",
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(
            format=DATETIME_LOCAL, attrs={"type": "datetime-local", "data-testid": "upgrade-time"}
        ),
    )
    reset_after_upgrade = forms.BooleanField(
        label="Reset After Upgrade",
        required=False,
        widget=forms.CheckboxInput(attrs={"data-testid": "reset-after-upgrade"}),
    )

    def __init__(self, *args, model: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.models = selectors.catalogue_models(actor=self.actor)
        self.fields["model"].choices = [(m, m) for m in self.models]
        self.chosen_model = model if model in self.models else ""
        self.fields["firmware"].queryset = selectors.firmware_of_model(
            actor=self.actor, model=self.chosen_model
        )
        self.fields["devices"].queryset = selectors.upgrade_devices(actor=self.actor, model=self.chosen_model)
        now = timezone.localtime().strftime(DATETIME_LOCAL)
        self.fields["scheduled_at"].widget.attrs["min"] = now
        upgrade = self.instance
        if upgrade is not None and not self.is_bound:
            self.initial.update(
                timing=Timing.SCHEDULED,
                scheduled_at=upgrade.scheduled_at,
                reset_after_upgrade=upgrade.reset_after_upgrade,
            )
            if self.chosen_model == upgrade.model:
                self.initial.update(
                    firmware=upgrade.firmware_id,
                    devices=list(
                        upgrade.operations.filter(device__isnull=False).values_list("device_id", flat=True)
                    ),
                )
        self.initial["model"] = self.chosen_model

    def selected_device_ids(self) -> set[str]:
        """The ticked devices, to tick them again when the form is shown with errors."""
        value = self["devices"].value() or []
        return {str(v) for v in value}

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "firmware": data["firmware"],
            "devices": list(data["devices"]),
            "timing": data["timing"],
            "scheduled_at": data.get("scheduled_at"),
            "reset_after_upgrade": data["reset_after_upgrade"],
        }
