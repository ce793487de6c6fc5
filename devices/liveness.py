"""Heartbeats of known devices answered from Redis and written to PostgreSQL in batches.

With `SMARTPLUS_DEVICE_LIVENESS = "redis"` (the compose set-up) a heartbeat that changes nothing
but liveness costs one Redis script and no database statement: PostgreSQL's share of a
heartbeat (parse, plan, update, commit: about 0.45 ms of backend CPU, more than the rest of the
request) was what capped the device API, and the database is the one part that does not scale by
replicas. `"database"` (the default, the demo) writes every heartbeat to the database.

What Redis holds, under `SMARTPLUS_DEVICE_LIVENESS_PREFIX` ("smartplus:liveness:"; portals
sharing one Redis each take their own):
- `auth:<MAC>`: "device id|secret hash|firmware version", written after a heartbeat the database
  accepted, for `SMARTPLUS_DEVICE_LIVENESS_TTL` seconds, and deleted when the device's secret
  changes (`forget`).
- `seen`: device id → "time|source address|secret hash" of its latest heartbeat.
- `queued`: ids of devices with commands waiting (`commands_queued`, after commit).
- `flush`: a lock; whoever takes it writes `seen` to the database (`flush`), at most once per
  `SMARTPLUS_DEVICE_LIVENESS_FLUSH` seconds, from a heartbeat or from the beat task.

**In each device API process** (`SMARTPLUS_DEVICE_LIVENESS_LOCAL` seconds, 0 off): a device that
Redis or the database just accepted is also kept in the process's memory, and its next
heartbeats to that process are answered there, with no round trip at all: the Redis call was
two thirds of a cached heartbeat's CPU. The process meets Redis once per period, in one
pipeline: it hands over the liveness it buffered (into `seen`), takes the flush lock when due,
and reads two counters, `queued_gen` (raised with every mark of waiting commands: the ids are
then read again) and `forget_gen` (raised by `forget`: the process drops what it knows). So a
command queued elsewhere is seen by every process within one period — the nudge waits that
long (`nudge_delay`) so that the heartbeat it provokes collects the command — and a reset or
deleted device is refused within one period too.

A heartbeat is answered here only when the cached secret hash and firmware version match and no
command waits; everything else (unknown device, wrong secret, new firmware, open claim, commands)
goes to the database path, `fleet.heartbeat`. The answer given here is only "no commands": no
secret, command or file ever comes from the cache. The database stays the authority for what is
stored, too: the flush writes a device's liveness only while its stored secret hash is the one
the heartbeat presented, so a cached entry that outlived its secret (a reset whose `forget` was
lost) delays that device's 401 by at most the TTL and records nothing. A lost `queued` entry is
restored by `reconcile`, a lost `seen` by the device's next heartbeat, and when Redis cannot be
reached every heartbeat takes the database path.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import UTC, datetime
from functools import cache

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q

from maclib.models import MacAddress

from .choices import CommandStatus
from .models import Device, DeviceCommand

log = logging.getLogger(__name__)

FLUSH_ROWS = 5_000  # devices per UPDATE
RETRY_AFTER = 5.0  # seconds without trying Redis after it failed

# KEYS: auth, seen, queued, flush lock. ARGV: secret hash, reported firmware version ("" keeps
# the stored one), "time|address", flush lock milliseconds. {0}: the database decides; {1, id,
# version, ms left of the entry}: recorded; {2, ...}: recorded, and the caller holds the flush
# lock. A device with commands waiting leaves `queued` here, before the database path reads
# them: a command committed later adds it again after its commit, so none is missed.
_HEARTBEAT = """
local auth = redis.call('GET', KEYS[1])
if not auth then return {0} end
local id, hash, version = string.match(auth, '^(%d+)|(%x+)|(.*)$')
if hash ~= ARGV[1] or (ARGV[2] ~= '' and ARGV[2] ~= version) then return {0} end
if redis.call('SREM', KEYS[3], id) == 1 then return {0} end
redis.call('HSET', KEYS[2], id, ARGV[3] .. '|' .. ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[4]) then return {2, id, version, left} end
return {1, id, version, left}
"""
# Takes every buffered heartbeat at once: one taker gets each, however many flush.
_TAKE = """
local all = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return all
"""

_down_until = 0.0


def enabled() -> bool:
    return settings.SMARTPLUS_DEVICE_LIVENESS == "redis"


@cache
def _redis(url: str) -> tuple:
    # Short timeouts: a slow Redis must not hold a heartbeat longer than the database would.
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client, client.register_script(_HEARTBEAT), client.register_script(_TAKE)


def _client() -> redis.Redis:
    return _redis(settings.REDIS_URL)[0]


def _usable() -> bool:
    return enabled() and time.monotonic() >= _down_until


def _failed(exc: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + RETRY_AFTER
    log.warning(
        "device liveness: Redis unavailable (%s); heartbeats use the database for %g s", exc, RETRY_AFTER
    )


def _key(name: str) -> str:
    return settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX + name


def _auth_key(mac: str) -> str:
    return _key(f"auth:{mac}")


# --- the heartbeat ----------------------------------------------------------------------------------


def heartbeat(mac: str, secret_hash: str, firmware_version: str, address: str | None, now: datetime) -> bool:
    """Record the heartbeat of a cached device that has nothing waiting; False: the database
    path must answer it."""
    if not _usable():
        return False
    stamp = f"{now.timestamp():.6f}|{address or ''}"
    if _local_period() and _front.answer(mac, secret_hash, firmware_version, f"{stamp}|{secret_hash}"):
        return True
    script = _redis(settings.REDIS_URL)[1]
    flush_ms = int(settings.SMARTPLUS_DEVICE_LIVENESS_FLUSH * 1000)
    try:
        outcome = script(
            keys=[_auth_key(mac), _key("seen"), _key("queued"), _key("flush")],
            args=[secret_hash, firmware_version, stamp, flush_ms],
        )
    except redis.RedisError as exc:
        _failed(exc)
        return False
    if not outcome[0]:
        return False
    _, device_id, version, left_ms = outcome
    if _local_period():
        _front.know(mac, int(device_id), secret_hash, version.decode(), int(left_ms) / 1000)
    if outcome[0] == 2:
        _flush_logged()
    return True


def _flush_logged() -> None:
    try:
        flush()
    except DatabaseError as exc:  # the heartbeats are recorded; this batch is lost (the next restores it)
        log.warning("device liveness: flush failed: %s", exc)


def _local_period() -> float:
    return settings.SMARTPLUS_DEVICE_LIVENESS_LOCAL


def nudge_delay() -> float | None:
    """How long a nudge waits after its command's commit: a process's knowledge of waiting
    commands may be one period old, and the heartbeat the nudge provokes must not miss it."""
    period = _local_period() if enabled() else 0
    return period * 1.2 if period else None


class _Front:
    """What one device API process knows between two syncs with Redis. Threads share it (gunicorn
    gthread); single dict operations are atomic, the sync runs under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset("")

    def reset(self, namespace: str) -> None:
        self.namespace = namespace  # REDIS_URL and prefix of what is known (tests change them)
        self.known: dict[str, tuple[int, str, str, float]] = {}  # MAC -> id, hash, version, until
        self.seen: dict[int, str] = {}  # device id -> "time|address|hash", not yet in Redis
        self.queued: set[int] = set()
        self.queued_gen: object = _UNREAD  # bytes or None once read
        self.forget_gen: object = _UNREAD  # bytes or None once read
        self.synced = -math.inf

    def know(self, mac: str, device_id: int, secret_hash: str, version: str, seconds: float) -> None:
        if seconds > 0:
            self.known[mac] = (device_id, secret_hash, version, time.monotonic() + seconds)

    def answer(self, mac: str, secret_hash: str, firmware_version: str, seen: str) -> bool:
        if self.namespace != _namespace():
            with self.lock:
                self.reset(_namespace())
        entry = self.known.get(mac)
        if entry is None or entry[1] != secret_hash or (firmware_version and firmware_version != entry[2]):
            return False
        clock = time.monotonic()
        if clock >= entry[3]:
            self.known.pop(mac, None)
            return False
        if clock - self.synced >= _local_period() and not self.sync():
            return False
        if mac not in self.known or entry[0] in self.queued:  # forgotten, or commands wait
            return False
        self.seen[entry[0]] = seen
        return True

    def sync(self) -> bool:
        """Meet Redis: hand over the buffered liveness, read the counters, take the flush lock
        when due. False when Redis failed (the heartbeat goes the long way)."""
        with self.lock:
            if time.monotonic() - self.synced < _local_period():
                return True  # another thread just did
            seen, self.seen = self.seen, {}
            client = _client()
            pipe = client.pipeline(transaction=False)
            if seen:
                pipe.hset(_key("seen"), mapping=seen)
            pipe.get(_key("queued_gen"))
            pipe.get(_key("forget_gen"))
            pipe.set(_key("flush"), "1", nx=True, px=int(settings.SMARTPLUS_DEVICE_LIVENESS_FLUSH * 1000))
            try:
                *_, queued_gen, forget_gen, flush_due = pipe.execute()
                if forget_gen != self.forget_gen:
                    self.known.clear()
                    self.forget_gen = forget_gen
                if queued_gen != self.queued_gen:
                    self.queued = {int(pk) for pk in client.smembers(_key("queued"))}
                    self.queued_gen = queued_gen
            except redis.RedisError as exc:
                self.seen = seen | self.seen  # kept for the next sync
                _failed(exc)
                return False
            self.synced = time.monotonic()
        if flush_due:
            _flush_logged()
        return True

    def hand_over(self) -> None:
        """Put the buffered liveness into Redis now (before a flush in this process)."""
        with self.lock:
            seen, self.seen = self.seen, {}
            if seen:
                try:
                    _client().hset(_key("seen"), mapping=seen)
                except redis.RedisError as exc:
                    self.seen = seen | self.seen
                    _failed(exc)


_UNREAD = object()


def _namespace() -> str:
    return settings.REDIS_URL + " " + settings.SMARTPLUS_DEVICE_LIVENESS_PREFIX


_front = _Front()


def remember(mac: str, device_id: int, secret_hash: str, firmware_version: str) -> None:
    """Cache a device the database just authenticated (its claim closed, its commands handed over)."""
    if not _usable():
        return
    try:
        _client().set(
            _auth_key(mac),
            f"{device_id}|{secret_hash}|{firmware_version}",
            ex=settings.SMARTPLUS_DEVICE_LIVENESS_TTL,
        )
    except redis.RedisError as exc:
        _failed(exc)
        return
    if _local_period():
        _front.queued.discard(device_id)  # its commands were just handed over
        _front.know(mac, device_id, secret_hash, firmware_version, settings.SMARTPLUS_DEVICE_LIVENESS_TTL)


# --- what the rest of the portal tells it ---------------------------------------------------------


def commands_queued(device_ids) -> None:
    """Commands now wait for these devices: after commit, their next heartbeat goes to the database."""
    ids = [int(pk) for pk in device_ids]
    if ids and enabled():
        transaction.on_commit(lambda: _add_queued(ids))


def _add_queued(ids: list[int]) -> None:
    _front.queued.update(ids)  # this process knows at once, the others at their next sync
    try:
        pipe = _client().pipeline(transaction=False)
        pipe.sadd(_key("queued"), *ids)
        pipe.incr(_key("queued_gen"))
        pipe.execute()
    except redis.RedisError as exc:
        # `reconcile` adds them within a minute; their commands wait until then.
        log.warning("device liveness: could not mark %d devices as having commands: %s", len(ids), exc)


def forget(*, devices=(), macs=()) -> None:
    """The secrets of these devices (ids), or of the devices that had these MACs (MacAddress
    ids), changed or went: after commit, drop what is cached of them."""
    device_ids, mac_ids = [int(pk) for pk in devices], [int(pk) for pk in macs]
    if (device_ids or mac_ids) and enabled():
        transaction.on_commit(lambda: _forget(device_ids, mac_ids))


def _forget(device_ids: list[int], mac_ids: list[int]) -> None:
    found = list(
        MacAddress.objects.filter(Q(device__pk__in=device_ids) | Q(pk__in=mac_ids)).values_list(
            "mac", flat=True
        )
    )
    keys = [_auth_key(mac) for mac in found]
    if not keys:
        return
    for mac in found:
        _front.known.pop(mac, None)
    try:
        pipe = _client().pipeline(transaction=False)
        pipe.delete(*keys)
        pipe.incr(_key("forget_gen"))  # every process drops what it knows at its next sync
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("device liveness: could not forget %d devices (the TTL will): %s", len(keys), exc)


# --- to the database ----------------------------------------------------------------------------------


def _flush_sql() -> str:
    device = Device._meta.db_table
    return (
        f"UPDATE {device} d SET last_seen_at = v.seen, lan_address = v.address "
        "FROM unnest(%s::bigint[], %s::timestamptz[], %s::inet[], %s::text[]) AS v(id, seen, address, hash) "
        "WHERE d.id = v.id AND d.api_secret_hash = v.hash AND d.api_secret_hash <> '' "
        "AND (d.last_seen_at IS NULL OR d.last_seen_at < v.seen)"
    )


def flush() -> int:
    """Write the buffered heartbeats to the database; the number of devices updated. Safe to run
    at any time and at once in several places: each buffered heartbeat is taken by one of them."""
    if not enabled():
        return 0
    _front.hand_over()
    take = _redis(settings.REDIS_URL)[2]
    try:
        flat = take(keys=[_key("seen")])
    except redis.RedisError as exc:
        _failed(exc)
        return 0
    rows = []
    for i in range(0, len(flat), 2):
        seen, address, hash_ = flat[i + 1].decode().split("|")
        rows.append((int(flat[i]), datetime.fromtimestamp(float(seen), UTC), address or None, hash_))
    updated = 0
    for start in range(0, len(rows), FLUSH_ROWS):
        ids, seen, addresses, hashes = zip(*rows[start : start + FLUSH_ROWS], strict=True)
        with connection.cursor() as cursor:
            cursor.execute(_flush_sql(), [list(ids), list(seen), list(addresses), list(hashes)])
            updated += cursor.rowcount
    return updated


def reconcile() -> int:
    """Mark again every device with commands waiting (a mark lost with Redis would hold its
    commands until the cache entry expires); the number of devices marked."""
    if not enabled():
        return 0
    ids = list(
        DeviceCommand.objects.filter(status=CommandStatus.QUEUED)
        .order_by()
        .values_list("device_id", flat=True)
        .distinct()
    )
    if ids:
        _add_queued(ids)
    return len(ids)
