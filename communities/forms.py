"""Community forms: the spec's New/Edit Community dialog and the property manager assignment."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import PropertyManager
from accounts.services import pm_unassigned_permission_errors
from smartplus import roles
from smartplus.forms import PortalForm, ScopedModelForm

from .choices import Integration
from .models import Building, Community
from .services import (
    INTEGRATION_LOCKED,
    SETTINGS_FIELDS,
    community_calls_allowed,
    community_delete_name_error,
)

RADIO_FIELDS = ("feature_plan", "time_format", "access_control_permission", "pin_mode", "charge_mode")


class CommunityForm(ScopedModelForm):
    class Meta:
        model = Community
        fields = SETTINGS_FIELDS
        widgets = {name: forms.RadioSelect for name in RADIO_FIELDS}
        help_texts = {
            "home_automation": _("Once you submit, you can't turn it off."),
            "landline_service": _(
                "Landline service is a premium feature. "
                "It is not available for Home Automation Service at the moment."
            ),
            "post_code": _("Letters A-Z, a-z and digits 0-9 only."),
            "access_control_permission": _(
                "Public Area + Private Area lets property managers create credentials for public and "
                "private devices; Only Public Area limits them to public devices."
            ),
        }

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        editing = self.instance.pk is not None
        installer = self.instance.installer if editing else actor
        if not editing and actor is not None:
            self.fields["time_zone"].initial = actor.time_zone
        if editing and not roles.allows(actor, Community, "change_locked_settings"):
            for name in ("feature_plan", "access_control_permission"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Cannot be changed once set.")
        if (
            editing
            and self.instance.integration != Integration.NONE
            and not roles.allows(actor, Community, "change_locked_settings")
        ):
            for name in INTEGRATION_LOCKED:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("Set by the Rent Manager integration; cannot be changed.")
        if editing and self.instance.home_automation:
            self.fields["home_automation"].disabled = True
        calls_on = editing and self.instance.community_calls
        if not calls_on and not (installer is not None and community_calls_allowed(installer=installer)):
            # Shown only when the distributor enabled Community Calls for this installer.
            del self.fields["community_calls"]

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class PropertyManagerRowForm(PortalForm):
    assigned = forms.BooleanField(required=False, label=_("Assigned"))
    app_enabled = forms.BooleanField(required=False, label=_("App"))
    delete_account_permission = forms.BooleanField(required=False, label=_("Delete Account Permission"))
    log_access_control = forms.BooleanField(required=False, label=_("Log Access Control"))

    def __init__(self, *args, property_manager=None, **kwargs):
        self.property_manager = property_manager
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        errors = pm_unassigned_permission_errors(
            property_manager=self.property_manager, assigned=cleaned.get("assigned"), permissions=cleaned
        )
        for name, message in errors.items():
            self.add_error(name, message)
        return cleaned


class PropertyManagerAssignmentForm(PortalForm):
    """One row per property manager of the installer: assigned or not, and its permissions."""

    def __init__(self, *args, actor=None, instance=None, **kwargs):
        self.managers = list(PropertyManager.objects.for_actor(actor).order_by("first_name", "last_name"))
        super().__init__(*args, actor=actor, instance=instance, **kwargs)
        current = {a.property_manager_id: a for a in instance.pm_assignments.all()} if instance else {}
        data = args[0] if args else kwargs.get("data")
        self.rows = []
        for pm in self.managers:
            a = current.get(pm.pk)
            initial = {
                "assigned": a is not None,
                "app_enabled": bool(a and a.app_enabled),
                "delete_account_permission": bool(a and a.delete_account_permission),
                "log_access_control": bool(a and a.log_access_control),
            }
            row = PropertyManagerRowForm(data, prefix=f"pm-{pm.pk}", initial=initial, property_manager=pm)
            self.rows.append((pm, a, row))

    def is_valid(self) -> bool:
        return super().is_valid() and all(row.is_valid() for _, _, row in self.rows)

    def service_rows(self) -> list[dict]:
        return [
            {"property_manager": pm, **{k: v for k, v in row.cleaned_data.items() if k != "assigned"}}
            for pm, _, row in self.rows
            if row.cleaned_data["assigned"]
        ]


class BuildingForm(ScopedModelForm):
    class Meta:
        model = Building
        fields = ["name"]
        labels = {"name": _("Building Name")}


class CommunityDeleteForm(PortalForm):
    """Delete Community asks for the community's name: one click would remove everything in it."""

    name = forms.CharField(
        label=_("Type the community name to confirm"),
        max_length=Community._meta.get_field("name").max_length,
        required=False,  # the service's message says what to type
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_name(self):
        typed = self.cleaned_data.get("name") or ""
        error = community_delete_name_error(community=self.instance, typed_name=typed)
        if error:
            raise forms.ValidationError(error)
        return typed
