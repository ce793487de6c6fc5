"""Base table and shared columns (django-tables2)."""

import django_tables2 as tables

from .models import AuditLog


class PortalTable(tables.Table):
    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0"}
        empty_text = "No data"


class ActionsColumn(tables.TemplateColumn):
    """Icon buttons; the template receives `record` and the request's `actor`."""

    def __init__(self, template_name: str, **kwargs):
        kwargs.setdefault("verbose_name", "Action")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap"}})
        super().__init__(template_name=template_name, **kwargs)


class AuditLogTable(PortalTable):
    time = tables.DateTimeColumn(verbose_name="Time", format="Y-m-d H:i:s")
    user_name = tables.Column(verbose_name="User")
    actor_name = tables.Column(verbose_name="Acting as")
    action = tables.Column(verbose_name="Action")
    object_type = tables.Column(verbose_name="Object type", accessor="object_type__name", orderable=False)
    object_repr = tables.Column(verbose_name="Object")
    changes = tables.TemplateColumn(
        template_name="generic/audit_changes.html", verbose_name="Changes", orderable=False
    )

    class Meta(PortalTable.Meta):
        model = AuditLog
        fields = ("time", "user_name", "actor_name", "action", "object_type", "object_repr", "changes")
        order_by = "-time"

    def render_actor_name(self, record, value):
        return value if record.actor_id != record.user_id else "--"
