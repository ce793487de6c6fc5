"""The credentials lists: a community's and an apartment's."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from communities.formatting import EMPTY
from residents.tables import CommunityTable
from smartplus.tables import ActionsColumn, PortalTable

from .models import Credential


class CredentialTable(CommunityTable):
    selection = tables.CheckBoxColumn(
        accessor="pk", exclude_from_export=True, attrs={"input": {"form": "bulk-delete"}}
    )
    resident = tables.Column(
        verbose_name=_("Resident"),
        accessor="resident__first_name",
        order_by=("resident__first_name", "resident__last_name", "id"),
        default=EMPTY,
    )
    apartment = tables.Column(
        verbose_name=_("APT"), accessor="apartment__number", order_by=("apartment__number", "id")
    )
    kind = tables.Column(verbose_name=_("Type"))
    code = tables.Column(verbose_name=_("Code"), accessor="code", orderable=False)
    name = tables.Column(verbose_name=_("Name"), default=EMPTY, empty_values=("",))
    scope = tables.Column(verbose_name=_("Devices"))
    valid_from = tables.Column(verbose_name=_("Valid From"), default=EMPTY)
    valid_until = tables.Column(verbose_name=_("Valid Until"), default=EMPTY)
    created = tables.Column(verbose_name=_("Created Time"), order_by=("created", "id"))
    actions = ActionsColumn("access/credential_actions.html", verbose_name=_("Action"))

    class Meta(PortalTable.Meta):
        model = Credential
        fields = ()
        sequence = (
            "selection",
            "resident",
            "apartment",
            "kind",
            "code",
            "name",
            "scope",
            "valid_from",
            "valid_until",
            "created",
            "actions",
        )
        attrs = {**PortalTable.Meta.attrs, "data-testid": "credential-table"}
        order_by = ("-created",)

    def render_resident(self, record):
        return record.resident.display_name if record.resident else EMPTY

    def value_resident(self, record):
        return record.resident.display_name if record.resident else None

    def render_code(self, record):
        return record.code_shown

    def value_code(self, record):
        return record.code_shown

    def render_valid_from(self, value):
        return self.when(value)

    def render_valid_until(self, value):
        return self.when(value)

    def render_created(self, value):
        return self.when(value)
