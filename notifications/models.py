"""One row per email the portal sends or must send: written before the send, so the row is both
the exactly-once claim and the log (docs/notifications.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartplus.scoping import ScopedManager

from .choices import AccountType, Kind, Recipient, Status

# Kinds whose rows the portal creates itself from a rule or an order: their key is unique. Account
# emails are made exactly once by their own claims (accounts, residents) and only logged here.
KEYED_KINDS = (Kind.EXPIRATION, Kind.RENEWAL)


class Notification(models.Model):
    scope_root = "installer"
    scope_path = "installer"

    kind = models.CharField(_("Kind"), max_length=16, choices=Kind.choices)
    account_type = models.CharField(
        "Account type", max_length=8, choices=AccountType.choices, blank=True, default=""
    )
    account_id = models.BigIntegerField(default=0)
    # The account's expiry instant the row is about (a tz-independent key: a community whose time
    # zone changes does not make a second key for the same expiry).
    expires_at = models.DateTimeField(_("Expiry"), null=True, blank=True)
    offset_days = models.SmallIntegerField(_("Days after expiry"), default=0)
    recipient_email = models.CharField(_("Recipient"), max_length=254)
    recipient_role = models.CharField(_("To"), max_length=20, choices=Recipient.choices, blank=True)
    language = models.CharField(max_length=8, default="en")
    # The renewal order for renewal emails (one per order and account); 0 otherwise.
    reference = models.BigIntegerField(default=0)
    # No database constraint on these two: a sweep writes thousands of rows at once and each FK
    # check costs as much as the row (docs/notifications.md, the bench); Django's on_delete
    # still applies when a community or installer is deleted through the ORM.
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the log's (installer, -created) index serves it
    )
    # The community's calendar day the row fell due on; rows of one recipient, community, kind and
    # day are one email (an installer's digest lists every account).
    local_day = models.DateField(_("Day"), null=True, blank=True)
    group_key = models.CharField(max_length=300)
    subject = models.CharField(_("Subject"), max_length=255, blank=True)
    status = models.CharField(_("Status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("Attempts"), default=0)
    last_error = models.TextField(_("Error"), blank=True)
    # What a feedback email carries (the end user's text and who sent it).
    payload = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(_("Created"), default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(_("Sent"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "kind",
                    "account_type",
                    "account_id",
                    "expires_at",
                    "offset_days",
                    "recipient_email",
                    "reference",
                ],
                condition=Q(kind__in=KEYED_KINDS),
                name="notification_key_unique",
            )
        ]
        # Each index costs the sweep a write per row: only those a query needs (a plain group_key
        # index, not db_index's second, pattern-ops one for LIKE).
        indexes = [
            models.Index(fields=["group_key"], name="notification_group"),
            models.Index(fields=["installer", "-created", "-id"], name="notification_installer_created"),
            # The sweep's pickup of what is not sent yet: small (sent rows leave it).
            models.Index(
                fields=["status", "created"], condition=~Q(status=Status.SENT), name="notification_unsent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_email}"


class SweepDay(models.Model):
    """A community's calendar day the expiration sweep has written the rows of: a later sweep the
    same day skips the community without reading its accounts. What changes during the day (an
    expiry moved back, the switch turned On) is swept the next day, within the rules' catch-up."""

    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="+")
    local_day = models.DateField()
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "local_day"], name="sweepday_unique")]

    def __str__(self) -> str:
        return f"{self.community_id} swept on {self.local_day}"
