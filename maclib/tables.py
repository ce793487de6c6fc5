"""The MAC library list with the spec's columns: MAC, Installer, Owner, Created Time, Action."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from communities.formatting import EMPTY
from smartplus.tables import ActionsColumn, DateTimeColumn, PortalTable

from .models import MacAddress
from .selectors import mac_owner


class MacTable(PortalTable):
    mac = tables.Column(verbose_name=_("MAC"), order_by=("mac",))
    installer = tables.Column(
        verbose_name=_("Installer"), accessor="installer__username", order_by=("installer__username", "id")
    )
    owner = tables.Column(verbose_name=_("Owner"), accessor="pk", orderable=False, empty_values=())
    # Not per community: the logged-in account's time zone (ActorMiddleware activates it), as the
    # audit log shows its times.
    created = DateTimeColumn(verbose_name=_("Created Time"), format="Y-m-d H:i:s", order_by=("created", "id"))
    actions = ActionsColumn("maclib/mac_actions.html", verbose_name=_("Action"))

    class Meta(PortalTable.Meta):
        model = MacAddress
        fields = ("mac", "installer", "owner", "created", "actions")
        order_by = "-created"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "mac-table"}

    def __init__(self, *args, actor, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)

    def render_owner(self, record):
        return mac_owner(actor=self.actor, mac=record) or EMPTY

    def value_owner(self, record):
        return mac_owner(actor=self.actor, mac=record) or None
