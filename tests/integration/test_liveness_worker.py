"""The liveness beat task on a real Celery worker: heartbeats buffered in Redis reach the
database when no heartbeat takes the flush, and waiting commands lost from Redis are marked again."""

from __future__ import annotations

import uuid

import pytest

from devices import liveness, maintenance
from devices.models import Device
from devices.tasks import liveness_task
from tests.devices.deviceapi import FakeDevice
from tests.workers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_flushes_buffered_heartbeats_and_marks_waiting_commands(
    world, settings, celery_worker_real
):
    settings.SMARTPLUS_DEVICE_LIVENESS = "redis"
    settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX = prefix = f"test-liveness-{uuid.uuid4().hex}:"
    client = liveness._client()
    client.set(prefix + "flush", "1", ex=600)  # no heartbeat flushes: only the task
    try:
        device = FakeDevice(world.device_a.mac_address.mac)
        assert device.register().status_code == 201
        assert device.commands() == [] and device.commands() == []  # cached, mark cleared
        before = Device.objects.get(pk=world.device_a.pk).last_seen_at
        assert device.heartbeat().status_code == 200  # buffered
        command = maintenance.device_reboot(actor=world.installer_a, device=world.device_a)
        client.delete(prefix + "queued")  # lost with Redis

        liveness_task.delay()
        seen = Device.objects.filter(pk=world.device_a.pk, last_seen_at__gt=before)
        assert wait_until(seen.exists), "the worker did not write the buffered heartbeat"
        assert wait_until(lambda: client.sismember(prefix + "queued", world.device_a.pk))
        assert [c["id"] for c in device.commands()] == [command.pk]
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
