"""Add Camera / Edit Camera: a third-party RTSP camera of the public area, a building or an apartment.

The rules (RTSP format, lengths, which door phones may be linked) live in devices.services; the
form only collects the values. The password is write-only: it is never rendered back.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smartplus.forms import PortalForm

from .models import Device, ThirdPartyCamera
from .selectors import linkable_devices
from .services import CAMERA_FIELDS, MAX_CAMERA_PASSWORD

RTSP_PLACEHOLDER = _("rtsp://ip:port or rtsp://domain:port")
LINK_HELP = _(
    "Linking lets the SmartPlus app switch between the door phone's camera and this camera; the "
    "camera then gets no icon of its own in the app. Only R29 door phones of the same place can be "
    "linked: the model the device reports, or until it reports one the Model chosen at Add Device."
)


class LinkedDeviceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Device) -> str:
        return f"{obj.name} ({obj.known_model})" if obj.known_model else obj.name


class CameraForm(PortalForm):
    """`instance` is the camera being edited; `camera` is it, or an unsaved one at the new camera's place."""

    def __init__(self, *args, camera: ThirdPartyCamera, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(ThirdPartyCamera, fields=CAMERA_FIELDS))
        self.fields["rtsp_address"].widget.attrs.update(
            placeholder=RTSP_PLACEHOLDER, autocomplete="off", spellcheck="false"
        )
        self.fields["username"].widget.attrs.update(autocomplete="off")
        editing = self.instance is not None
        self.fields["password"] = forms.CharField(
            label=_("Password"),
            required=not editing,
            strip=False,
            max_length=MAX_CAMERA_PASSWORD,
            # render_value=False: neither the stored password nor a typed one comes back in a page.
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            help_text=_("Leave blank to keep the current password.") if editing else "",
        )
        choices = linkable_devices(actor=self.actor, camera=camera)
        if editing:
            # A linked device that stopped qualifying (its firmware changed) stays visible, so the
            # service can say why it must be unlinked instead of the link vanishing silently.
            choices = (
                Device.objects.for_actor(self.actor)
                .filter(Q(pk__in=choices.values("pk")) | Q(pk__in=camera.linked_devices.values("pk")))
                .order_by("name", "pk")
            )
        self.fields["linked_devices"] = LinkedDeviceField(
            label=_("Link Device"),
            queryset=choices,
            required=False,
            widget=forms.SelectMultiple(attrs={"size": 4}),
            help_text=LINK_HELP,
        )
        if editing and not self.is_bound:
            for name in CAMERA_FIELDS:
                self.initial[name] = getattr(self.instance, name)
            self.initial["linked_devices"] = [d.pk for d in self.instance.linked_devices.all()]
        self._style()

    def camera_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in CAMERA_FIELDS}
