"""New (one MAC typed by hand) and Import (the MAC template); a distributor also picks the installer."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smartplus import roles
from smartplus.forms import PortalForm, TemplateImportForm

from .services import installers_for


class InstallerChoiceMixin:
    """The installer whose library the MACs go to: chosen by a distributor, implied for the rest."""

    def _add_installer_field(self) -> None:
        installers = installers_for(self.actor)
        if roles.allows(self.actor, "maclib.macaddress", "choose_installer"):
            field = forms.ModelChoiceField(
                label=_("Installer"),
                queryset=installers,
                empty_label=_("Select an installer"),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            field.label_from_instance = lambda user: user.username
            self.fields = {"installer": field, **self.fields}
            self._implied_installer = None
        else:
            self._implied_installer = installers.first()

    @property
    def installer(self):
        return self.cleaned_data.get("installer") or self._implied_installer


class MacAddForm(InstallerChoiceMixin, PortalForm):
    mac = forms.CharField(
        label=_("MAC"),
        max_length=32,  # 12 hex digits and up to 5 separators, with room for stray spaces
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 0C11050893CA"), "autocomplete": "off"}),
        help_text=_('12 hex digits, with or without ":" or "-".'),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_installer_field()


class MacImportForm(InstallerChoiceMixin, TemplateImportForm):
    file_label = _("MAC template")
    file_help = _('"MAC" in cell A1, one MAC per line below it.')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_installer_field()
