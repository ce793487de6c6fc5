"""Celery tasks of the device fleet. Thin: ids in, `devices.maintenance` does the work."""

from __future__ import annotations

from celery import shared_task

from .lan import DeviceUnreachable


# Capped retries with backoff and jitter; the longest countdown (60 s) is far below the
# broker's visibility timeout, so a waiting retry is never delivered twice.
@shared_task(
    autoretry_for=(DeviceUnreachable,),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=30,
    time_limit=40,
)
def device_nudge_task(device_id: int) -> None:
    from .maintenance import device_nudge

    device_nudge(device_id=device_id)
