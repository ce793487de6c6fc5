"""Celery tasks of the residents app. Thin: load by id, call a service."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, retry_jitter=True, max_retries=5
)
def send_resident_account_email(resident_id: int) -> None:
    from .app_accounts import app_account_email

    app_account_email(resident_id=resident_id)
