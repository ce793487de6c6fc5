"""What this app hears from the apps below it (they cannot import it): account emails for the
log, and billing's renewal orders."""

from __future__ import annotations

from django.utils import timezone

from .choices import AccountType, Kind, Status


def log_account_email(
    sender=None, recipient="", language="en", subject="", community_id=None, installer_id=None, error="", **kw
):
    from .models import Notification

    now = timezone.now()
    Notification.objects.create(
        kind=Kind.ACCOUNT,
        account_type=AccountType.USER
        if sender is not None and sender._meta.label_lower == "accounts.user"
        else AccountType.APP,
        recipient_email=(recipient or "").lower(),
        language=language or "en",
        subject=subject[:255],
        community_id=community_id,
        installer_id=installer_id,
        group_key=f"{Kind.ACCOUNT}|{recipient}",
        status=Status.FAILED if error else Status.SENT,
        attempts=1,
        last_error=error[:2000],
        sent_at=None if error else now,
        created=now,
    )


def connect() -> None:
    from smartplus.signals import account_email_sent

    account_email_sent.connect(log_account_email, dispatch_uid="notifications-account-email-log")
    from billing.signals import order_renewed  # a renewal order succeeded (billing's fulfilment)

    from .renewals import on_order_renewed

    order_renewed.connect(on_order_renewed, dispatch_uid="notifications-order-renewed")
