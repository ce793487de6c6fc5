"""Add / Edit Upgrade: a model, a firmware of it, its devices, the update timing and the reset.

The model decides the other choices: the firmware of that model in the catalogue, and the devices
of that model across the actor's communities (`selectors.upgrade_devices`). A device outside them is
not a valid choice, so it is refused at the field; the service checks everything again.

The devices are posted either as ticked ids (a page holds at most `DEVICE_ROWS` of them) or as
"all matching" with the page's search, which the service runs again at save time: no id list,
so 10,000 devices are one field, not 10,000 (Django refuses more than 1,000 fields). An edit of an
upgrade with more devices than a page shows keeps its devices unless the installer picks again.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from devices.models import Device
from smartplus.forms import PortalForm

from . import selectors
from .choices import Timing
from .models import Firmware
from .services import DeviceMatch

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
DEVICE_ROWS = 200  # devices listed on the page; "Select all N matching" reaches the others


class Selection:
    IDS, ALL, KEEP = "ids", "all", "keep"


class FirmwareChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Firmware) -> str:
        return obj.version


class UpgradeForm(PortalForm):
    # Chosen on the page above the form (changing it reloads the choices below); carried here.
    model = forms.ChoiceField(
        label=_("Model"),
        widget=forms.HiddenInput,
        error_messages={"required": _("Select a model."), "invalid_choice": _("Select a model.")},
    )
    firmware = FirmwareChoiceField(
        label=_("Firmware"),
        queryset=Firmware.objects.none(),
        empty_label=_("Select a firmware"),
        error_messages={"invalid_choice": _("Select a firmware of the chosen model.")},
        widget=forms.Select(attrs={"data-testid": "upgrade-firmware"}),
    )
    # "ids": the ticked devices; "all": every device the search `q` finds; "keep" (Edit only):
    # the upgrade's devices as they are.
    selection = forms.ChoiceField(
        choices=[(Selection.IDS, "ids"), (Selection.ALL, "all"), (Selection.KEEP, "keep")],
        required=False,
        widget=forms.HiddenInput(attrs={"data-selection": ""}),
    )
    q = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    # Rendered as the device table of the template (name, community, location, MAC, ...).
    devices = forms.ModelMultipleChoiceField(
        label=_("Devices"),
        queryset=Device.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Device %(value)s is not a device of this model in your communities."),
            "invalid_pk_value": _("“%(pk)s” is not a device."),
        },
    )
    timing = forms.ChoiceField(
        label=_("Update Timing"), choices=Timing.choices, initial=Timing.NOW, widget=forms.RadioSelect
    )
    # Typed in the account's time zone (active for the request); stored in UTC.
    scheduled_at = forms.DateTimeField(
        label=_("Upgrade Time"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(
            format=DATETIME_LOCAL, attrs={"type": "datetime-local", "data-testid": "upgrade-time"}
        ),
    )
    reset_after_upgrade = forms.BooleanField(
        label=_("Reset After Upgrade"),
        required=False,
        widget=forms.CheckboxInput(attrs={"data-testid": "reset-after-upgrade"}),
    )
    # Shown once the service found devices the firmware would downgrade; required to save then.
    confirm_downgrade = forms.BooleanField(
        label=_("Downgrade these devices to the older firmware"),
        required=False,
        widget=forms.CheckboxInput(attrs={"data-testid": "confirm-downgrade"}),
    )

    def __init__(self, *args, model: str = "", search: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.models = selectors.catalogue_models(actor=self.actor)
        self.fields["model"].choices = [(m, m) for m in self.models]
        self.chosen_model = model if model in self.models else ""
        self.fields["firmware"].queryset = selectors.firmware_of_model(
            actor=self.actor, model=self.chosen_model
        )
        self.fields["devices"].queryset = selectors.upgrade_devices(actor=self.actor, model=self.chosen_model)
        self.search = (search or "").strip()[:100]
        self.initial["q"] = self.search
        if self.instance is None:
            self.fields["selection"].choices = self.fields["selection"].choices[:2]
        now = timezone.localtime().strftime(DATETIME_LOCAL)
        self.fields["scheduled_at"].widget.attrs["min"] = now
        upgrade = self.instance
        if upgrade is not None:
            self.kept_count = upgrade.operations.filter(device__isnull=False).count()
        if upgrade is not None and not self.is_bound:
            self.initial.update(
                timing=Timing.SCHEDULED,
                scheduled_at=upgrade.scheduled_at,
                reset_after_upgrade=upgrade.reset_after_upgrade,
            )
            if self.chosen_model == upgrade.model:
                ops = upgrade.operations.filter(device__isnull=False)
                self.initial["firmware"] = upgrade.firmware_id
                if self.kept_count > DEVICE_ROWS:
                    self.initial["selection"] = Selection.KEEP
                else:
                    self.initial["devices"] = list(ops.values_list("device_id", flat=True))
        self.initial["model"] = self.chosen_model

    kept_count = 0

    def selection_mode(self) -> str:
        return self["selection"].value() or Selection.IDS

    def selected_device_ids(self) -> set[str]:
        """The ticked devices, to tick them again when the form is shown with errors."""
        value = self["devices"].value() or []
        return {str(v) for v in value}

    def clean(self):
        data = super().clean()
        mode = data.get("selection") or Selection.IDS
        if mode == Selection.IDS and not data.get("devices") and "devices" not in self.errors:
            self.add_error("devices", _("Select at least one device."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        mode = data.get("selection") or Selection.IDS
        kwargs = {
            "firmware": data["firmware"],
            "timing": data["timing"],
            "scheduled_at": data.get("scheduled_at"),
            "reset_after_upgrade": data["reset_after_upgrade"],
            "allow_downgrade": data["confirm_downgrade"],
        }
        if mode == Selection.ALL:
            kwargs["match"] = DeviceMatch(search=data.get("q") or "")
        elif mode == Selection.KEEP:
            kwargs["match"] = DeviceMatch(kept_from=self.instance.pk)
        else:
            kwargs["devices"] = list(data["devices"])
        return kwargs
