"""The Redis liveness cache (SMARTPLUS_DEVICE_LIVENESS = "redis"): a known device with nothing new
is answered without the database, and nothing the database decides is ever taken from the cache.

Real Redis (the tests' REDIS_URL), each test under a prefix of its own; transactional, so the
marks written after commit are written as in production.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.utils import timezone

from devices import liveness, maintenance
from devices.fleet import secret_hash
from devices.models import Device
from tests.devices.deviceapi import FakeDevice

pytestmark = pytest.mark.django_db(transaction=True)

NEW = "29.30.2.900"


@pytest.fixture
def cached(settings):
    settings.SMARTPLUS_DEVICE_LIVENESS = "redis"
    # These tests watch Redis itself: the process's own front is off (tests at the end turn it on).
    settings.SMARTPLUS_DEVICE_LIVENESS_LOCAL = 0
    settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX = prefix = f"test-liveness-{uuid.uuid4().hex}:"
    client = liveness._client()
    # The flush lock held: heartbeats leave their liveness buffered, the tests flush by hand.
    client.set(prefix + "flush", "1", ex=600)
    yield client
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    liveness._down_until = 0.0


def settled(world) -> FakeDevice:
    """A registered device whose AutoP command is done, after the heartbeats that cache it."""
    device = FakeDevice(world.device_a.mac_address.mac)
    assert device.register().status_code == 201
    for _ in range(2):  # the first is answered by the database and cached; the next clears its mark
        assert device.commands() == []
    return device


def stored(world) -> Device:
    return Device.objects.get(pk=world.device_a.pk)


def test_a_known_device_with_nothing_new_is_answered_without_the_database(
    world, cached, django_assert_num_queries
):
    device = settled(world)
    before = stored(world).last_seen_at
    with django_assert_num_queries(0):
        reply = device.heartbeat()
    assert reply.status_code == 200
    assert reply.json() == {"heartbeat_interval": 60, "commands": []}
    assert stored(world).last_seen_at == before  # buffered in Redis until the flush
    assert liveness.flush() == 1
    current = stored(world)
    assert current.last_seen_at > before
    assert current.lan_address == "127.0.0.1"  # the test client's source address
    assert current.status == "online"


def test_a_heartbeat_takes_the_flush_when_it_is_due(world, cached, settings):
    device = settled(world)
    before = stored(world).last_seen_at
    cached.delete(settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX + "flush")
    assert device.heartbeat().status_code == 200
    assert stored(world).last_seen_at > before
    # The next one within SMARTPLUS_DEVICE_LIVENESS_FLUSH stays buffered.
    after_flush = stored(world).last_seen_at
    assert device.heartbeat().status_code == 200
    assert stored(world).last_seen_at == after_flush


def test_a_command_queued_for_a_cached_device_reaches_it_at_its_next_heartbeat(world, cached):
    device = settled(world)
    command = maintenance.device_reboot(actor=world.installer_a, device=world.device_a)
    [delivered] = device.commands()
    assert (delivered["id"], delivered["kind"]) == (command.pk, "reboot")
    command.refresh_from_db()
    assert command.status == "delivered"
    assert device.commands() == []  # handed over once


def test_new_firmware_is_recorded_at_once(world, cached):
    device = settled(world)
    device.firmware_version = NEW
    assert device.heartbeat().status_code == 200
    assert stored(world).firmware_version == NEW


def test_a_reset_device_is_refused_at_once_and_its_buffered_heartbeat_records_nothing(world, cached):
    device = settled(world)
    maintenance.device_reset(actor=world.installer_a, device=world.device_a)
    [reset] = device.commands()
    assert device.heartbeat().status_code == 200  # buffered with the secret it still holds
    assert device.result(reset["id"], "done").status_code == 200  # the device forgot its secret
    assert device.heartbeat().status_code == 401  # not answered from the cache any more
    before = stored(world).last_seen_at
    assert liveness.flush() == 0
    assert stored(world).last_seen_at == before


def test_a_cache_entry_that_outlived_its_secret_records_nothing(world, cached, settings):
    device = settled(world)
    liveness.flush()
    before = stored(world).last_seen_at
    # The secret changed behind the cache's back (a `forget` lost with Redis): until the entry
    # expires the old secret is answered "no commands", and nothing of it is stored.
    Device.objects.filter(pk=world.device_a.pk).update(api_secret_hash=secret_hash("another secret"))
    assert device.heartbeat().status_code == 200
    assert liveness.flush() == 0
    assert stored(world).last_seen_at == before
    cached.delete(settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX + f"auth:{device.mac}")  # expired
    assert device.heartbeat().status_code == 401


def test_a_lost_mark_of_waiting_commands_comes_back_with_the_reconcile(world, cached, settings):
    device = settled(world)
    command = maintenance.device_reboot(actor=world.installer_a, device=world.device_a)
    cached.delete(settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX + "queued")  # Redis lost it
    assert device.commands() == []  # the cache does not know: the command waits
    assert liveness.reconcile() == 1
    assert [c["id"] for c in device.commands()] == [command.pk]


def test_an_unknown_device_or_a_wrong_secret_is_refused_by_the_database(world, cached):
    device = settled(world)
    assert device.heartbeat(**device.auth(secret="wrong")).status_code == 401
    stranger = FakeDevice("0C1100FFFFFF")
    assert stranger.heartbeat(**stranger.auth(secret="anything")).status_code == 401


def test_without_redis_heartbeats_go_to_the_database(world, cached, settings):
    device = settled(world)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    started = timezone.now()
    assert device.heartbeat().status_code == 200
    assert stored(world).last_seen_at >= started
    # And while Redis is down the portal does not try it on every heartbeat.
    assert liveness._usable() is False


def test_a_deleted_device_is_forgotten(world, cached, settings):
    from devices import services

    device = settled(world)
    key = settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX + f"auth:{device.mac}"
    assert cached.exists(key)
    services.device_delete(actor=world.installer_a, device=world.device_a)
    assert not cached.exists(key)
    assert device.heartbeat().status_code == 401


# --- the process's own front (SMARTPLUS_DEVICE_LIVENESS_LOCAL) ---------------------------------------


@pytest.fixture
def front(cached, settings):
    settings.SMARTPLUS_DEVICE_LIVENESS_LOCAL = PERIOD
    liveness._front.reset("")
    yield cached
    liveness._front.reset("")


PERIOD = 0.2


def redis_commands(client) -> int:
    return int(client.info("stats")["total_commands_processed"])


def another_process_queues(client, settings, device_id: int) -> None:
    """What `commands_queued` does from a web or worker process: this process hears of it only
    through Redis."""
    prefix = settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX
    client.sadd(prefix + "queued", device_id)
    client.incr(prefix + "queued_gen")


def test_a_known_device_is_answered_from_the_process_without_redis_or_the_database(
    world, front, django_assert_num_queries
):
    device = settled(world)
    assert device.heartbeat().status_code == 200  # syncs once: the front now knows the marks
    before = redis_commands(front)
    with django_assert_num_queries(0):
        for _ in range(20):
            assert device.heartbeat().json() == {"heartbeat_interval": 60, "commands": []}
    # Only the counter read of INFO itself (and at most one sync, if the period ended meanwhile).
    assert redis_commands(front) - before <= 1 + 5
    started = stored(world).last_seen_at
    assert liveness.flush() == 1  # the process hands its buffer over first
    assert stored(world).last_seen_at > started


def test_a_command_queued_in_another_process_is_collected_within_one_period(world, front, settings):
    device = settled(world)
    assert device.heartbeat().status_code == 200
    command = maintenance.device_reboot(actor=world.installer_a, device=world.device_a)
    liveness._front.queued.discard(world.device_a.pk)  # as if queued by a web process
    another_process_queues(front, settings, world.device_a.pk)
    time.sleep(PERIOD * 1.2)  # what the nudge waits (liveness.nudge_delay)
    assert [c["id"] for c in device.commands()] == [command.pk]
    assert device.commands() == []


def test_a_command_queued_in_this_process_is_collected_at_once(world, front):
    device = settled(world)
    assert device.heartbeat().status_code == 200
    command = maintenance.device_reboot(actor=world.installer_a, device=world.device_a)
    assert [c["id"] for c in device.commands()] == [command.pk]


def test_a_device_forgotten_in_another_process_is_refused_within_one_period(world, front, settings):
    device = settled(world)
    assert device.heartbeat().status_code == 200
    # A reset elsewhere: the stored secret changes, the cache entry goes, `forget_gen` rises.
    Device.objects.filter(pk=world.device_a.pk).update(api_secret_hash=secret_hash("another secret"))
    prefix = settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX
    front.delete(prefix + f"auth:{device.mac}")
    front.incr(prefix + "forget_gen")
    time.sleep(PERIOD * 1.2)
    assert device.heartbeat().status_code == 401


def test_the_nudge_waits_one_period_only_with_the_front_on(settings, front):
    assert liveness.nudge_delay() == pytest.approx(PERIOD * 1.2)
    settings.SMARTPLUS_DEVICE_LIVENESS_LOCAL = 0
    assert liveness.nudge_delay() is None
    settings.SMARTPLUS_DEVICE_LIVENESS = "database"
    settings.SMARTPLUS_DEVICE_LIVENESS_LOCAL = PERIOD
    assert liveness.nudge_delay() is None


def test_new_firmware_bypasses_the_front(world, front):
    device = settled(world)
    assert device.heartbeat().status_code == 200
    device.firmware_version = NEW
    assert device.heartbeat().status_code == 200
    assert stored(world).firmware_version == NEW
