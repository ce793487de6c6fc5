"""The distributor's installer list."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from smartplus.tables import ActionsColumn, BooleanColumn, PortalTable

from .models import Installer


class InstallerTable(PortalTable):
    username = tables.Column(verbose_name=_("Account"))
    name = tables.Column(
        verbose_name=_("Name"), accessor="first_name", order_by=("first_name", "last_name"), default="--"
    )
    email = tables.Column(verbose_name=_("Email"))
    account_access_enabled = BooleanColumn(verbose_name=_("Account access"))
    permission_granted = BooleanColumn(verbose_name=_("Permission Granted"))
    actions = ActionsColumn("accounts/installer_actions.html")

    class Meta(PortalTable.Meta):
        model = Installer
        fields = ("username", "name", "email", "account_access_enabled", "permission_granted", "actions")

    def render_name(self, record):
        return record.get_full_name() or "--"

    def value_name(self, record):
        return record.get_full_name() or None
