"""Celery tasks of the accounts app: account emails. Thin: load by id, call a service."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, retry_jitter=True, max_retries=5
)
def send_account_email(user_id: int) -> None:
    from .emails import account_email_send
    from .models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.info("send_account_email: user %s no longer exists", user_id)
        return
    account_email_send(user=user)
