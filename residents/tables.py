"""The APT list of a building and the resident search of a community (the spec's columns)."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities.formatting import EMPTY, community_datetime
from smartplus import phones
from smartplus.tables import ActionsColumn, PortalTable

from .choices import ActiveStatus, AppStatus
from .models import Apartment, Resident
from .models.apartments import floor_label
from .status import active_status


class CommunityTable(PortalTable):
    """A table whose times show in its community's time zone and formats."""

    def __init__(self, *args, community, **kwargs):
        self.community = community
        super().__init__(*args, **kwargs)

    def when(self, value) -> str:
        return community_datetime(value, self.community)


def _apt_label(number, floor) -> str:
    return floor_label(number, floor)


class ApartmentTable(CommunityTable):
    number = tables.Column(verbose_name=_("APT"), order_by=("number", "id"))
    name = tables.Column(verbose_name=_("APT Name"), orderable=False, empty_values=("",), default=EMPTY)
    resident = tables.Column(
        verbose_name=_("Resident"),
        accessor="master_first_name",
        order_by=("master_first_name", "master_last_name", "id"),
        default=EMPTY,
    )
    email = tables.Column(verbose_name=_("Email"), accessor="master_email", orderable=False, default=EMPTY)
    mobile = tables.Column(
        verbose_name=_("Mobile Number"), accessor="master_mobile_number", orderable=False, default=EMPTY
    )
    active = tables.Column(verbose_name=_("Active"), accessor="master_id", orderable=False, default=EMPTY)
    created = tables.Column(verbose_name=_("Created Time"), order_by=("created", "id"))
    expires = tables.Column(
        verbose_name=_("Expiration Time(App)"), accessor="master_expires_at", orderable=False, default=EMPTY
    )
    actions = ActionsColumn("residents/apartment_actions.html", verbose_name=_("Actions"))

    class Meta(PortalTable.Meta):
        model = Apartment
        fields = ("number", "name", "resident", "email", "mobile", "active", "created", "expires", "actions")
        order_by = "-created"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "apt-table"}

    def render_number(self, record):
        return _apt_label(record.number, record.floor)

    def render_resident(self, record):
        return f"{record.master_first_name} {record.master_last_name}"

    def render_mobile(self, record, value):
        return phones.display(value, record.master_country)

    def render_active(self, record):
        return ActiveStatus(active_status(record.master_activated, record.master_expires_at)).label

    def render_created(self, value):
        return self.when(value)

    def render_expires(self, value):
        return self.when(value)


class ResidentTable(CommunityTable):
    resident = tables.Column(
        verbose_name=_("Resident"), accessor="first_name", order_by=("first_name", "last_name", "id")
    )
    email = tables.Column(verbose_name=_("Email"), orderable=False, empty_values=("",), default=EMPTY)
    building = tables.Column(
        verbose_name=_("Building"), accessor="apartment__building__name", orderable=False
    )
    apt = tables.Column(verbose_name=_("APT"), accessor="apartment__number", orderable=False)
    apt_name = tables.Column(
        verbose_name=_("APT Name"),
        accessor="apartment__name",
        orderable=False,
        empty_values=("",),
        default=EMPTY,
    )
    active = tables.Column(verbose_name=_("Active"), accessor="activated", orderable=False)
    app_status = tables.Column(verbose_name=_("App Status"), accessor="pk", orderable=False)
    created = tables.Column(verbose_name=_("Created Time"), order_by=("created", "id"))
    expires_at = tables.Column(verbose_name=_("Expiration Time"), orderable=False, default=EMPTY)
    actions = ActionsColumn("residents/resident_actions.html", verbose_name=_("Actions"))

    class Meta(PortalTable.Meta):
        model = Resident
        fields = (
            "resident",
            "email",
            "building",
            "apt",
            "apt_name",
            "active",
            "app_status",
            "created",
            "expires_at",
            "actions",
        )
        order_by = "-created"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "resident-table"}

    def render_resident(self, record):
        if record.family_master_id is None:
            return record.display_name
        return format_html(
            '{} <span class="badge text-bg-light border">{}</span>',
            record.display_name,
            gettext("Family member"),
        )

    def value_resident(self, record):
        if record.family_master_id is None:
            return record.display_name
        return gettext("%(name)s (Family member)") % {"name": record.display_name}

    def render_apt(self, record):
        return _apt_label(record.apartment.number, record.apartment.floor)

    def render_active(self, record):
        return record.get_active_status_display()

    def render_app_status(self, record):
        return AppStatus(record.app_status).label

    def render_created(self, value):
        return self.when(value)

    def render_expires_at(self, value):
        return self.when(value)
