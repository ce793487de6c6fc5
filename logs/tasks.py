"""Celery tasks of the logs: thin, no actor."""

from celery import shared_task


@shared_task(soft_time_limit=300)
def retention_purge_task(batch_size: int = 5_000) -> int:
    """Beat's entry (CELERY_BEAT_SCHEDULE "logs-retention"): one batch of expired events; while a
    full batch went, the next one is queued, so no single task runs long."""
    from logs.services import events_purge_expired

    removed = events_purge_expired(batch_size=batch_size)
    if removed >= batch_size:
        retention_purge_task.delay(batch_size)
    return removed
