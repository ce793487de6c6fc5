"""Subscriptions' selection form and the Exchange Coupon form.

The selection travels as one field ("app:12,pm_app:3,premium:7") or as "every item the filter
matches" resolved on the server: an order of 3,000 items is then one or two fields, far below
Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000 fields), whatever the number of items.
"""

from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .choices import ItemType
from .selectors import ACTIVATE, RENEW, matching_count, matching_items, parse_keys, payable_communities

TYPE_CHOICES = [("", _("All")), *ItemType.choices]


class SubscriptionForm(forms.Form):
    tab = forms.ChoiceField(choices=[(ACTIVATE, _("Active")), (RENEW, _("Renew"))], initial=ACTIVATE)
    community = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label=_("All"),
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-community", "data-filter": ""}),
    )
    type = forms.ChoiceField(
        label=_("Type"),
        choices=TYPE_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-type", "data-filter": ""}),
    )
    keys = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-keys": ""}))
    select_all = forms.BooleanField(
        required=False, widget=forms.HiddenInput(attrs={"data-select-all-field": ""})
    )
    renew_to = forms.DateField(
        label=_("Renew To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control w-auto", "id": "renew-to"}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["community"].queryset = payable_communities(actor).order_by("name")
        latest = timezone.localdate() + relativedelta(years=settings.SMARTPLUS_RENEW_MAX_YEARS)
        self.fields["renew_to"].widget.attrs["max"] = latest.isoformat()
        self.fields["renew_to"].widget.attrs["min"] = (timezone.localdate()).isoformat()

    def filter_args(self) -> tuple[str, int | None, str]:
        data = getattr(self, "cleaned_data", {})
        community = data.get("community")
        return data.get("tab") or ACTIVATE, community.pk if community else None, data.get("type") or ""

    def clean_keys(self):
        try:
            return parse_keys(self.cleaned_data.get("keys", ""))
        except ValueError:
            raise forms.ValidationError(_("The selection could not be read: select again.")) from None

    def selected_items(self):
        """The Items to order: the ticked ones, or all that the filter matches. A filter matching
        more than the limit is refused before its ids are read."""
        if self.cleaned_data.get("select_all"):
            tab, community, item_type = self.filter_args()
            limit = settings.SMARTPLUS_ORDER_MAX_ITEMS
            count = matching_count(self.actor, tab, community, item_type)
            if count > limit:
                raise forms.ValidationError(
                    gettext("At most %(limit)s items at a time: %(count)s are selected.")
                    % {"limit": f"{limit:,}", "count": f"{count:,}"}
                )
            return matching_items(self.actor, tab, community, item_type)
        return self.cleaned_data["keys"]


class CouponRedeemForm(forms.Form):
    code = forms.CharField(
        label=_("Coupon Number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "off", "data-testid": "coupon-code"}
        ),
    )

    def __init__(self, *args, actor=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
