"""Celery tasks of the notifications app. Thin: ids in, services called."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def expiration_sweep_task() -> None:
    """Beat's entry (CELERY_BEAT_SCHEDULE "notifications-expiration-sweep")."""
    from .sweep import sweep

    result = sweep()
    logger.info("expiration sweep: %s rows written, %s emails enqueued", result.created, result.enqueued)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, retry_jitter=True, max_retries=5
)
def send_notifications(head_ids: list[int]) -> None:
    """One chunk of emails, one head row id each. A failed email does not stop the others; the
    retry sends again only what is still not sent."""
    from .delivery import deliver

    failure = None
    for head_id in head_ids:
        try:
            deliver(head_id)
        except OSError as exc:
            failure = exc
    if failure is not None:
        raise failure
