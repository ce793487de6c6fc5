"""One sync per connection at a time: a lock in the shared cache (Redis in production: SET NX with
an expiry, so a crashed worker's lock frees itself).

A run takes the lock with its own id as the token when it starts and gives it back when its last
property ends (`rentmanager.sync.run_finish`), in whichever worker that is."""

from __future__ import annotations

import secrets
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache


def _key(connection_id: int) -> str:
    return f"rentmanager:sync-lock:{connection_id}"


def take(connection_id: int, token: str) -> bool:
    """True when the lock was free and is now `token`'s."""
    return cache.add(_key(connection_id), token, timeout=settings.SMARTPLUS_RENTMANAGER_LOCK_SECONDS)


def release(connection_id: int, token: str) -> None:
    """Free the lock if `token` still holds it (not a later run's lock after this one expired)."""
    if cache.get(_key(connection_id)) == token:
        cache.delete(_key(connection_id))


def renew(connection_id: int, token: str) -> None:
    """Another full lifetime for `token`'s lock (each property of a run renews it as it starts,
    so a long queue of properties keeps the connection locked)."""
    if cache.get(_key(connection_id)) == token:
        cache.touch(_key(connection_id), settings.SMARTPLUS_RENTMANAGER_LOCK_SECONDS)


def holder(connection_id: int) -> str | None:
    return cache.get(_key(connection_id))


def run_token(run_id: int) -> str:
    return f"run:{run_id}"


@contextmanager
def sync_lock(connection_id: int):
    """Yields True when this caller holds the connection's lock, False when another sync does."""
    token = secrets.token_hex(8)
    held = take(connection_id, token)
    try:
        yield held
    finally:
        if held:
            release(connection_id, token)


def is_locked(connection_id: int) -> bool:
    return cache.get(_key(connection_id)) is not None
