"""The logs' retention on a real Celery worker: beat's task purges expired events batch by batch
(each full batch queues the next), and the images' files go with their rows."""

from __future__ import annotations

import pytest

from logs.models import DoorEvent, private_storage
from logs.tasks import retention_purge_task
from tests.logs.support import make_door_event, make_image
from tests.workers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_retention_task_purges_expired_events_on_a_real_worker(world, settings, celery_worker_real):
    settings.SMARTPLUS_LOG_RETENTION_DAYS = 7
    old = make_image(world.device_a, "old-image", minutes_ago=8 * 24 * 60)
    for i in range(7):
        make_door_event(world.device_a, f"old{i}", minutes_ago=10 * 24 * 60 + i)
    make_door_event(world.device_a, "fresh", minutes_ago=60)

    retention_purge_task.delay(3)  # batches of 3: the task queues itself until a batch is short
    remaining = DoorEvent.objects.exclude(event_id="fresh")
    assert wait_until(lambda: not remaining.exists(), timeout=30), "the worker left expired events"
    assert list(DoorEvent.objects.values_list("event_id", flat=True)) == ["fresh"]
    assert wait_until(lambda: not private_storage.exists(old.image.name))
