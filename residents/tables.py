"""The APT list of a building and the resident search of a community (the spec's columns)."""

import django_tables2 as tables
from django.utils.html import format_html

from communities.formatting import EMPTY, community_datetime
from smartplus import phones
from smartplus.tables import ActionsColumn, PortalTable

from .choices import ActiveStatus, AppStatus
from .models import Apartment, Resident
from .status import active_status


class CommunityTable(PortalTable):
    """A table whose times show in its community's time zone and formats."""

    def __init__(self, *args, community, **kwargs):
        self.community = community
        super().__init__(*args, **kwargs)

    def when(self, value) -> str:
        return community_datetime(value, self.community)


def _apt_label(number, floor) -> str:
    return f"{number} (Floor {floor})" if floor else number


class ApartmentTable(CommunityTable):
    number = tables.Column(verbose_name="APT", order_by=("number", "id"))
    name = tables.Column(verbose_name="APT Name", orderable=False, empty_values=("",), default=EMPTY)
    resident = tables.Column(
        verbose_name="Resident",
        accessor="master_first_name",
        order_by=("master_first_name", "master_last_name", "id"),
        default=EMPTY,
    )
    email = tables.Column(verbose_name="Email", accessor="master_email", orderable=False, default=EMPTY)
    mobile = tables.Column(
        verbose_name="Mobile Number", accessor="master_mobile_number", orderable=False, default=EMPTY
    )
    active = tables.Column(verbose_name="Active", accessor="master_id", orderable=False, default=EMPTY)
    created = tables.Column(verbose_name="Created Time", order_by=("created", "id"))
    expires = tables.Column(
        verbose_name="Expiration Time(App)", accessor="master_expires_at", orderable=False, default=EMPTY
    )
    actions = ActionsColumn("residents/apartment_actions.html", verbose_name="Actions")

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
        verbose_name="Resident", accessor="first_name", order_by=("first_name", "last_name", "id")
    )
    email = tables.Column(verbose_name="Email", orderable=False, empty_values=("",), default=EMPTY)
    building = tables.Column(verbose_name="Building", accessor="apartment__building__name", orderable=False)
    apt = tables.Column(verbose_name="APT", accessor="apartment__number", orderable=False)
    apt_name = tables.Column(
        verbose_name="APT Name",
        accessor="apartment__name",
        orderable=False,
        empty_values=("",),
        default=EMPTY,
    )
    active = tables.Column(verbose_name="Active", accessor="activated", orderable=False)
    app_status = tables.Column(verbose_name="App Status", accessor="pk", orderable=False)
    created = tables.Column(verbose_name="Created Time", order_by=("created", "id"))
    expires_at = tables.Column(verbose_name="Expiration Time", orderable=False, default=EMPTY)
    actions = ActionsColumn("residents/resident_actions.html", verbose_name="Actions")

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
            '{} <span class="badge text-bg-light border">Family member</span>', record.display_name
        )

    def value_resident(self, record):
        if record.family_master_id is None:
            return record.display_name
        return f"{record.display_name} (Family member)"

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
