"""Celery tasks of the Rent Manager integration. Thin: load by id, call a service."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=3600)
def sync_connection_task(connection_id: int, run_id: int | None = None) -> None:
    """Start a run: its properties go to `sync_property_task`, several at once."""
    from .services import sync_run_locked

    sync_run_locked(connection_id=connection_id, run_id=run_id)


@shared_task(soft_time_limit=3 * 3600)
def sync_property_task(run_id: int, part_id: int) -> None:
    from .sync import property_sync

    property_sync(run_id=run_id, part_id=part_id)


@shared_task
def sync_all_task() -> None:
    """Beat, hourly: one task per connection whose daily sync is due (services.due_connections),
    and the end of runs whose parts never reported (services.runs_reconcile)."""
    from smartplus.celery import fan_out

    from .services import due_connections, runs_reconcile

    runs_reconcile()
    fan_out(sync_connection_task, [(pk,) for pk in due_connections()])
