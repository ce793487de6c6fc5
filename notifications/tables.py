"""The notification log's table: what was sent to whom and when, failures with their reason."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from smartplus.tables import DateTimeColumn, PortalTable

from .models import Notification


class NotificationTable(PortalTable):
    created = DateTimeColumn(verbose_name=_("Time"), format="Y-m-d H:i:s")
    kind = tables.Column(verbose_name=_("Kind"))
    recipient_email = tables.Column(verbose_name=_("Recipient"))
    recipient_role = tables.Column(verbose_name=_("To"))
    community = tables.Column(
        verbose_name=_("Community"), accessor="community__name", order_by="community__name"
    )
    subject = tables.Column(verbose_name=_("Subject"))
    status = tables.TemplateColumn(
        template_name="notifications/_status.html", verbose_name=_("Status"), order_by="status"
    )
    attempts = tables.Column(verbose_name=_("Attempts"))
    sent_at = DateTimeColumn(verbose_name=_("Sent"), format="Y-m-d H:i:s")
    last_error = tables.Column(verbose_name=_("Reason"), orderable=False)

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
