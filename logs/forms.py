"""The logs pages' filters: date range, device, APT, method, result."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from devices.models import Device
from residents.models import Apartment

from .choices import DoorMethod, DoorResult


class LogFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    device = forms.ModelChoiceField(label=_("Device"), queryset=Device.objects.none(), required=False)
    apt = forms.CharField(label=_("APT"), max_length=16, required=False)

    def __init__(self, *args, actor, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor, self.community = actor, community
        self.fields["device"].queryset = (
            Device.objects.for_actor(actor)
            .filter(community=community)
            .only("pk", "name")
            .order_by("name", "pk")
        )
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} form-control-sm")

    def filters(self) -> dict | None:
        """The selector's filters, or None when nothing can match (an APT that is not here)."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        result = {k: v for k, v in data.items() if k not in ("start", "end", "apt") and v}
        # Dates are the actor's days: "To" includes its whole day.
        if data.get("start"):
            result["start"] = dt.datetime.combine(data["start"], dt.time.min, tzinfo=zone)
        if data.get("end"):
            result["end"] = dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        if data.get("apt"):
            apartment = (
                Apartment.objects.for_actor(self.actor)
                .filter(community=self.community, number=data["apt"].strip())
                .only("pk")
                .first()
            )
            if apartment is None:
                return None
            result["apartment"] = apartment
        return result


class DoorLogFilterForm(LogFilterForm):
    method = forms.ChoiceField(label=_("Type"), choices=[("", _("All")), *DoorMethod.choices], required=False)
    result = forms.ChoiceField(
        label=_("Result"), choices=[("", _("All")), *DoorResult.choices], required=False
    )


class CallFilterForm(LogFilterForm):
    answered = forms.ChoiceField(
        label=_("Answered"), choices=[("", _("All")), ("yes", _("Yes")), ("no", _("No"))], required=False
    )
