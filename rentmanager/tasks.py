"""Celery tasks of the Rent Manager integration. Thin: load by id, call a service."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=3 * 3600)
def sync_connection_task(connection_id: int, run_id: int | None = None) -> None:
    from .services import sync_run_locked

    sync_run_locked(connection_id=connection_id, run_id=run_id)


@shared_task
def sync_all_task() -> None:
    """Beat, hourly: one task per connection whose daily sync is due (services.due_connections)."""
    from smartplus.celery import fan_out

    from .services import due_connections

    fan_out(sync_connection_task, [(pk,) for pk in due_connections()])
