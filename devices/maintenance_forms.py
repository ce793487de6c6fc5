"""Forms of the Settings dialog (Connection Type, "Others" AutoP commands) and of Once AutoP.

They only collect the input: the AutoP lines are checked by `devices.maintenance`, whose line
errors the views put back on these fields.
"""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from smartplus.forms import PortalForm

from .choices import Transport

AUTOP_HELP = _(
    "One AutoP command per line, as Config.Module.SECTION.Key = value. "
    "Duplicate commands are not kept; lines starting with # are ignored."
)


class DeviceSettingsForm(PortalForm):
    transport = forms.TypedChoiceField(
        label=_("Connection Type"),
        choices=Transport.choices,
        coerce=int,
        widget=forms.Select(attrs={"data-testid": "settings-transport"}),
    )
    autop_commands = forms.CharField(
        label=_("Others"),
        required=False,
        strip=False,
        help_text=AUTOP_HELP,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "spellcheck": "false",
                "class": "font-monospace",
                "data-testid": "settings-autop",
            }
        ),
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None and not self.is_bound:
            self.initial.update(transport=instance.transport, autop_commands=instance.autop_commands)


class OneTimeAutopForm(PortalForm):
    commands = forms.CharField(
        label=_("AutoP commands"),
        required=False,  # "Enter at least one command." is the service's to say
        strip=False,
        help_text=format_lazy(
            "{} {}", _("Applied once, on the device's next connection, then forgotten."), AUTOP_HELP
        ),
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "spellcheck": "false",
                "class": "font-monospace",
                "data-testid": "one-time-autop-commands",
            }
        ),
    )
