"""Celery tasks of the accounts app: account emails. Thin: load by id, call a service."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, retry_jitter=True, max_retries=5
)
def send_account_email(user_id: int) -> None:
    from .models import User
    from .services import account_email_deliver, announce_account_email

    try:
        delivered = account_email_deliver(user_id=user_id)
    except OSError as exc:
        # The claim rolled back; the log hears of the failure here, outside it.
        user = User.objects.filter(pk=user_id).first()
        if user is not None:
            announce_account_email(user, error=f"{type(exc).__name__}: {exc}")
        raise
    if not delivered:
        logger.info("send_account_email: nothing to send for user %s (gone or already sent)", user_id)
