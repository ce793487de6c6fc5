"""Firmware list, Upgrade list and an upgrade's per-device operations, with the spec's columns.

Times are in the logged-in account's time zone (ActorMiddleware activates it): firmware and
upgrades belong to no community, as the MAC library's times do.
"""

import django_tables2 as tables
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from communities.formatting import EMPTY
from smartplus.tables import ActionsColumn, DateTimeColumn, PortalTable

from .choices import OperationStatus, UpgradeStatus
from .models import Firmware, FirmwareUpgrade, UpgradeOperation

TIME_FORMAT = "Y-m-d H:i:s"

UPGRADE_BADGE = {
    UpgradeStatus.PENDING: "text-bg-warning",
    UpgradeStatus.PROCESSING: "text-bg-info",
    UpgradeStatus.EXECUTED: "text-bg-success",
}
OPERATION_BADGE = {
    OperationStatus.PENDING: "text-bg-secondary",
    OperationStatus.IN_PROGRESS: "text-bg-info",
    OperationStatus.SUCCESS: "text-bg-success",
    OperationStatus.ALREADY_ON_VERSION: "text-bg-success",
    OperationStatus.FAILED: "text-bg-danger",
    OperationStatus.CANCELLED: "text-bg-dark",
}


def upgrade_badge(upgrade: FirmwareUpgrade) -> str:
    return format_html(
        '<span class="badge {}" data-testid="upgrade-status" data-status="{}">{}</span>',
        UPGRADE_BADGE.get(upgrade.status, "text-bg-secondary"),
        upgrade.status,
        upgrade.get_status_display(),
    )


def operation_badge(operation: UpgradeOperation) -> str:
    return format_html(
        '<span class="badge {}" data-testid="operation-status" data-status="{}">{}</span>',
        OPERATION_BADGE.get(operation.status, "text-bg-secondary"),
        operation.status,
        operation.get_status_display(),
    )


# --- Firmware ----------------------------------------------------------------------------------


class FirmwareTable(PortalTable):
    version = tables.Column(
        verbose_name=_("Version"),
        linkify=("firmware:firmware_detail", [tables.A("pk")]),
        order_by=("version", "id"),
    )
    model = tables.Column(verbose_name=_("Model"), order_by=("model", "version", "id"))
    version_log = tables.Column(verbose_name=_("Version Log"), orderable=False, default=EMPTY)
    created = DateTimeColumn(verbose_name=_("Created Time"), format=TIME_FORMAT, order_by=("created", "id"))
    actions = ActionsColumn("firmware/firmware_actions.html", verbose_name=_("Action"))

    class Meta(PortalTable.Meta):
        model = Firmware
        fields = ("version", "model", "version_log", "created", "actions")
        order_by = "-created"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "firmware-table"}
        row_attrs = {"data-testid": "firmware-row", "data-version": lambda record: record.version}

    def render_version_log(self, value):
        # The full log is on the detail page; a long one would stretch the row.
        return truncatechars(value, 80)


# --- Upgrade -----------------------------------------------------------------------------------


class UpgradeTable(PortalTable):
    version = tables.Column(
        verbose_name=_("Version"), accessor="firmware__version", order_by=("firmware__version", "id")
    )
    model = tables.Column(verbose_name=_("Device"), order_by=("model", "id"))
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))
    scheduled_at = DateTimeColumn(
        verbose_name=_("Upgrade Time"), format=TIME_FORMAT, order_by=("scheduled_at", "id")
    )
    created = DateTimeColumn(verbose_name=_("Created Time"), format=TIME_FORMAT, order_by=("created", "id"))
    # The super manager sees every installer's upgrades; the others only their own.
    installer = tables.Column(
        verbose_name=_("Installer"), accessor="installer__username", order_by=("installer__username", "id")
    )
    actions = ActionsColumn("firmware/upgrade_actions.html", verbose_name=_("Action"))

    class Meta(PortalTable.Meta):
        model = FirmwareUpgrade
        fields = ("version", "model", "status", "scheduled_at", "created", "installer", "actions")
        order_by = "-created"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "upgrade-table"}
        row_attrs = {
            "data-testid": "upgrade-row",
            "data-upgrade-id": lambda record: record.pk,
            "data-status": lambda record: record.status,
        }

    def render_status(self, record):
        return upgrade_badge(record)

    def value_status(self, record):
        return record.get_status_display()


class UpgradeOperationTable(PortalTable):
    """An upgrade's devices: one operation each, with how it went."""

    device_name = tables.Column(verbose_name=_("Device Name"), order_by=("device_name", "id"))
    mac = tables.Column(verbose_name=_("MAC"), order_by=("mac", "id"))
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "device_name", "id"))
    version_before = tables.Column(verbose_name=_("Version Before"), orderable=False, default=EMPTY)
    attempts = tables.Column(verbose_name=_("Attempts"), orderable=False)
    reason = tables.Column(verbose_name=_("Reason"), orderable=False, default=EMPTY)
    finished_at = DateTimeColumn(
        verbose_name=_("Finished"), format=TIME_FORMAT, order_by=("finished_at", "id"), default=EMPTY
    )

    class Meta(PortalTable.Meta):
        model = UpgradeOperation
        fields = ("device_name", "mac", "status", "version_before", "attempts", "reason", "finished_at")
        order_by = ("device_name",)
        attrs = {**PortalTable.Meta.attrs, "data-testid": "operation-table"}
        row_attrs = {"data-testid": "operation-row", "data-mac": lambda record: record.mac}

    def render_status(self, record):
        return operation_badge(record)

    def value_status(self, record):
        return record.get_status_display()
