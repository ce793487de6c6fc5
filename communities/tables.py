"""Dashboard tables: communities, property managers and sub-accounts."""

import django_tables2 as tables
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PropertyManager, SubAccount
from smartplus.tables import ActionsColumn, PortalTable

from .models import Community


class CommunityTable(PortalTable):
    name = tables.Column(
        verbose_name=_("Name"), linkify=("communities:community_detail", {"pk": tables.A("pk")})
    )
    device_count = tables.Column(verbose_name=_("Device Count"), orderable=False)
    end_user_count = tables.Column(verbose_name=_("End User Count"), orderable=False)
    property_managers = tables.Column(verbose_name=_("Property Managers"), accessor="pk", orderable=False)
    actions = ActionsColumn("communities/community_actions.html", verbose_name=_("Actions"))

    class Meta(PortalTable.Meta):
        model = Community
        fields = ("name", "device_count", "end_user_count", "property_managers", "actions")
        order_by = "name"

    def render_property_managers(self, record):
        names = [a.property_manager.display_name for a in record.pm_assignments.all()]
        if not names:
            return "--"
        return format_html_join(", ", "{}", ((n,) for n in names))

    def value_property_managers(self, record):
        return ", ".join(a.property_manager.display_name for a in record.pm_assignments.all()) or None


class PropertyManagerTable(PortalTable):
    name = tables.Column(verbose_name=_("Name"), accessor="first_name", order_by=("first_name", "last_name"))
    email = tables.Column(verbose_name=_("Email"))
    communities = tables.Column(verbose_name=_("Community"), accessor="pk", orderable=False)
    actions = ActionsColumn("accounts/propertymanager_actions.html")

    class Meta(PortalTable.Meta):
        model = PropertyManager
        fields = ("name", "email", "communities", "actions")

    SHOWN = 5

    def before_render(self, request):
        # Only the managers on this page, and only names: a manager may run hundreds of communities.
        from .selectors import community_names_by_manager

        rows = self.page.object_list if self.page else self.rows
        self.community_names = community_names_by_manager(property_manager_ids=[r.record.pk for r in rows])

    def render_name(self, record):
        return record.display_name

    def render_communities(self, record):
        names = self.community_names.get(record.pk, [])
        if not names:
            return "--"
        more = len(names) - self.SHOWN
        shown = ", ".join(names[: self.SHOWN])
        if more <= 0:
            return shown
        return gettext("%(names)s and %(more)s more") % {"names": shown, "more": more}


class SubAccountTable(PortalTable):
    username = tables.Column(verbose_name=_("Account"))
    email = tables.Column(verbose_name=_("Email"), default="--")
    phone = tables.Column(verbose_name=_("Phone"), default="--")
    actions = ActionsColumn("accounts/subaccount_actions.html")

    class Meta(PortalTable.Meta):
        model = SubAccount
        fields = ("username", "email", "phone", "actions")
