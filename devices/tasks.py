"""Celery tasks of the device fleet. Thin: ids in, `devices.maintenance` does the work."""

from __future__ import annotations

import random

from celery import shared_task

from .lan import DeviceUnreachable

NUDGE_BATCH = 100  # devices per nudge task of a rollout
NUDGE_RETRIES = 3
NUDGE_BACKOFF, NUDGE_BACKOFF_MAX = 5, 60  # seconds


# Capped retries with backoff and jitter; the longest countdown (60 s) is far below the
# broker's visibility timeout, so a waiting retry is never delivered twice.
@shared_task(
    autoretry_for=(DeviceUnreachable,),
    retry_backoff=NUDGE_BACKOFF,
    retry_backoff_max=NUDGE_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=NUDGE_RETRIES,
    soft_time_limit=30,
    time_limit=40,
)
def device_nudge_task(device_id: int) -> None:
    from .maintenance import device_nudge

    device_nudge(device_id=device_id)


# A batch of at most NUDGE_BATCH dials, NUDGE_THREADS at a time: a dead device costs at most the
# connect and read timeouts (7 s), so a batch of dead devices ends well inside the limit.
@shared_task(soft_time_limit=120, time_limit=150)
def devices_nudge_task(targets: list, attempt: int = 0) -> None:
    """Nudge a rollout's devices: [device id, LAN address] each, so the task never reads the
    database (one task per device opened a connection each). Those that did not answer are tried
    again, together, after a capped backoff with jitter; nudging twice is harmless."""
    from smartplus.celery import enqueue

    from .maintenance import devices_nudge

    silent = devices_nudge(targets=targets)
    if silent and attempt < NUDGE_RETRIES:
        delay = min(NUDGE_BACKOFF * 2**attempt, NUDGE_BACKOFF_MAX)
        enqueue(devices_nudge_task, silent, attempt + 1, countdown=random.uniform(delay / 2, delay))


def nudge_batches(targets: list) -> list[tuple]:
    """The argument lists of `devices_nudge_task` for many targets."""
    return [(targets[i : i + NUDGE_BATCH],) for i in range(0, len(targets), NUDGE_BATCH)]


@shared_task(soft_time_limit=60, time_limit=90)
def liveness_task() -> None:
    """Beat, every 30 s with the Redis liveness cache: buffered heartbeats to the database (the
    heartbeats flush too, so this matters when devices go quiet) and waiting commands marked again."""
    from . import liveness

    liveness.flush()
    liveness.reconcile()
