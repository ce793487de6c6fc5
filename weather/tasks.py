"""Celery tasks of weather. Thin: ids in, `weather.services` does the work; safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from .providers import ProviderError

log = logging.getLogger(__name__)

GEOCODE_RETRIES = 5
REFRESH_RETRIES = 4


@shared_task(
    autoretry_for=(ProviderError,),
    retry_backoff=60,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=GEOCODE_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def community_locate_task(community_id: int) -> None:
    """A community's address changed: find its Location (a geocoding call for a new address)."""
    from .services import community_locate

    community_locate(community_id=community_id)


@shared_task(soft_time_limit=300, time_limit=330)
def communities_locate_task(community_ids: list[int]) -> None:
    """The beat's backfill: communities never located, in one batch (a call per new address)."""
    from .services import communities_locate

    communities_locate(community_ids=community_ids)


@shared_task(soft_time_limit=60, time_limit=90)
def location_refresh_task(location_id: int) -> None:
    """One Location: fetch unless fresh or backing off, then deliver. A failure schedules the
    next attempt after the backoff the service recorded (countdown below the visibility timeout)."""
    from django.utils import timezone

    from smartplus.celery import enqueue

    from .services import location_refresh

    observation = location_refresh(location_id=location_id)
    if observation is None:
        log.info("weather: location %s is gone or has no coordinates", location_id)
        return
    if observation.failed_now and observation.failures <= REFRESH_RETRIES:
        # Past the retries, the beat tries again each period (after the capped backoff).
        delay = max((observation.next_attempt_at - timezone.now()).total_seconds(), 1)
        enqueue(location_refresh_task, location_id, countdown=delay)


@shared_task(soft_time_limit=120, time_limit=150)
def weather_refresh_task() -> None:
    """Beat `weather-refresh`: select what is due and fan out a task per batch of communities to
    locate and one per distinct Location to refresh."""
    from smartplus.celery import fan_out

    from .services import LOCATE_BATCH, refresh_plan

    unlocated, due = refresh_plan()
    batches = [(unlocated[i : i + LOCATE_BATCH],) for i in range(0, len(unlocated), LOCATE_BATCH)]
    fan_out(communities_locate_task, batches)
    fan_out(location_refresh_task, [(pk,) for pk in due])
