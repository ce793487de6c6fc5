"""Sending one email of rows: claim them, send, record. What the send tasks run."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .choices import Status
from .emails import RENDERERS
from .models import Notification

logger = logging.getLogger(__name__)

ERROR_LENGTH = 2000


def deliver(head_id: int) -> bool:
    """Send the email of `head_id`'s group (its rows not sent yet), once.

    The rows are locked (SKIP LOCKED) for the send and marked sent in the same transaction: a
    copy of the task, a second sweep's task or another worker finds them locked or sent and sends
    nothing. A worker that dies mid-send rolls back: the rows stay pending and the next sweep
    sends them. A failed send commits the failure (status, attempts, error) and raises, so the
    task retries with backoff. Only a crash between the SMTP server's acceptance and the commit
    can repeat an email.
    """
    head = Notification.objects.filter(pk=head_id).values("group_key").first()
    if head is None:
        return False
    error = None
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(group_key=head["group_key"])
            .exclude(status=Status.SENT)
            .order_by("pk")
        )
        if not rows:
            return False
        ids = [row.pk for row in rows]
        now = timezone.now()
        email = RENDERERS[rows[0].kind](rows)
        if email is None:  # renewed or deleted since the sweep: nothing to say, never retried
            from .sweep import MAX_ATTEMPTS

            Notification.objects.filter(pk__in=ids).update(
                status=Status.FAILED,
                attempts=MAX_ATTEMPTS,
                last_error="Not sent: the accounts were renewed or deleted since.",
                updated=now,
            )
            return False
        try:
            email.message.send()
        except OSError as exc:  # smtplib.SMTPException included
            error = exc
            Notification.objects.filter(pk__in=ids).update(
                status=Status.FAILED,
                attempts=F("attempts") + 1,
                subject=email.subject[:255],
                last_error=f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH],
                updated=now,
            )
        else:
            Notification.objects.filter(pk__in=ids).update(
                status=Status.SENT,
                attempts=F("attempts") + 1,
                subject=email.subject[:255],
                last_error="",
                sent_at=now,
                updated=now,
            )
    if error is not None:
        logger.warning("notification %s: send failed (%s), will retry", head_id, error)
        raise error
    return True
