"""Base table and shared columns (django-tables2).

A column's export value (`value_<column>` or the column's `value()`) is the plain text the page
shows; `smartplus.exports` writes it to the .xlsx of a list. Empty cells export as blank cells.
"""

import django_tables2 as tables
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import AuditLog

# Columns whose values are left-to-right codes (MACs, addresses, numbers, emails, versions): their
# cells get the `ltr` class (portal.css), so they read correctly inside a right-to-left page.
LTR_COLUMNS = frozenset(
    {"mac", "ip", "ip_address", "lan_ip", "sip", "sip_number", "sip_account", "phone", "mobile", "landline"}
    | {"email", "recipient_email", "code", "pin", "version", "version_before", "version_log", "model"}
)


class PortalTable(tables.Table):
    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = _("No data")

    def get_column_class_names(self, classes_set, bound_column):
        classes = super().get_column_class_names(classes_set, bound_column)
        # Dates too: "2026-12-02 22:18" inside a right-to-left cell would wrap with its parts reordered.
        if (
            bound_column.name in LTR_COLUMNS
            or isinstance(bound_column.column, tables.DateTimeColumn | tables.DateColumn)
            or bound_column.name.endswith(("_at", "_time", "_date"))
        ):
            classes.add("ltr")
        return classes


class ActionsColumn(tables.TemplateColumn):
    """Icon buttons; the template receives `record` and the request's `actor`. Never exported."""

    def __init__(self, template_name: str, **kwargs):
        kwargs.setdefault("verbose_name", _("Action"))
        kwargs.setdefault("orderable", False)
        # Sticky at the row's end (portal.css): the actions stay in view while a wide table scrolls.
        kwargs.setdefault(
            "attrs", {"th": {"class": "actions-col"}, "td": {"class": "text-nowrap actions-col"}}
        )
        kwargs.setdefault("exclude_from_export", True)
        super().__init__(template_name=template_name, **kwargs)


class DateTimeColumn(tables.DateTimeColumn):
    """A time in the account's time zone and the column's format, in the export as on the page."""

    def value(self, **kwargs):
        # tables2 exports ISO 8601 in UTC; the template renders what the page shows.
        return tables.TemplateColumn.value(self, **kwargs)


class BooleanColumn(tables.BooleanColumn):
    """A check mark or a cross on the page; Yes or No in the export."""

    def value(self, value, **kwargs):
        return gettext("Yes") if value else gettext("No")


class AuditLogTable(PortalTable):
    time = DateTimeColumn(verbose_name=_("Time"), format="Y-m-d H:i:s")
    user_name = tables.Column(verbose_name=_("User"))
    actor_name = tables.Column(verbose_name=_("Acting as"))
    action = tables.Column(verbose_name=_("Action"))
    object_type = tables.Column(verbose_name=_("Object type"), accessor="object_type__name", orderable=False)
    object_repr = tables.Column(verbose_name=_("Object"))
    changes = tables.TemplateColumn(
        template_name="generic/audit_changes.html", verbose_name=_("Changes"), orderable=False
    )
    # Everything one request, task or import wrote: the link lists that change set alone.
    change_set = tables.TemplateColumn(
        template_name="generic/audit_change_set.html", verbose_name=_("Change set"), orderable=False
    )

    class Meta(PortalTable.Meta):
        model = AuditLog
        fields = (
            "time",
            "user_name",
            "actor_name",
            "action",
            "object_type",
            "object_repr",
            "changes",
            "change_set",
        )
        order_by = "-time"

    def value_change_set(self, record):
        return str(record.change_set) if record.change_set else None

    def render_actor_name(self, record, value):
        return value if record.actor_id != record.user_id else "--"

    def value_actor_name(self, record, value):
        return value if record.actor_id != record.user_id else None

    def value_changes(self, record):
        # The page folds the changes behind "N fields"; the export spells each one out.
        parts = []
        for name, (old, new) in (record.changes or {}).items():
            before = "" if old is None else f"{old} → "
            parts.append(f"{name}: {before}{'--' if new is None else new}")
        return "; ".join(parts) or None
