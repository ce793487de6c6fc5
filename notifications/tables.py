"""The notification log's table: what was sent to whom and when, failures with their reason."""

import django_tables2 as tables

from smartplus.tables import DateTimeColumn, PortalTable

from .models import Notification


class NotificationTable(PortalTable):
    created = DateTimeColumn(verbose_name="Time", format="Y-m-d H:i:s")
    kind = tables.Column(verbose_name="Kind")
    recipient_email = tables.Column(verbose_name="Recipient")
    recipient_role = tables.Column(verbose_name="To")
    community = tables.Column(
        verbose_name="Community", accessor="community__name", order_by="community__name"
    )
    subject = tables.Column(verbose_name="Subject")
    status = tables.TemplateColumn(
        template_name="notifications/_status.html", verbose_name="Status", order_by="status"
    )
    attempts = tables.Column(verbose_name="Attempts")
    sent_at = DateTimeColumn(verbose_name="Sent", format="Y-m-d H:i:s")
    last_error = tables.Column(verbose_name="Reason", orderable=False)

    class Meta(PortalTable.Meta):
        model = Notification
        fields = (
            "created",
            "kind",
            "recipient_email",
            "recipient_role",
            "community",
            "subject",
            "status",
            "attempts",
            "sent_at",
            "last_error",
        )
        row_attrs = {"data-status": lambda record: record.status}

    def value_status(self, record):
        return record.get_status_display()
