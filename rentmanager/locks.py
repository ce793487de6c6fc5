"""One sync per connection at a time: a lock in the shared cache (Redis in production: SET NX with
an expiry, so a crashed worker's lock frees itself)."""

from __future__ import annotations

import secrets
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache


def _key(connection_id: int) -> str:
    return f"rentmanager:sync-lock:{connection_id}"


@contextmanager
def sync_lock(connection_id: int):
    """Yields True when this caller holds the connection's lock, False when another sync does."""
    token = secrets.token_hex(8)
    held = cache.add(_key(connection_id), token, timeout=settings.SMARTPLUS_RENTMANAGER_LOCK_SECONDS)
    try:
        yield held
    finally:
        if held and cache.get(_key(connection_id)) == token:
            cache.delete(_key(connection_id))


def is_locked(connection_id: int) -> bool:
    return cache.get(_key(connection_id)) is not None
