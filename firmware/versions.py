"""Firmware versions compared by their dotted numbers: 29.30.2.1000 is newer than 29.30.2.900."""

from __future__ import annotations


def version_key(version: str) -> tuple[int, ...] | None:
    """The version's numbers, or None when it is not dotted numbers (unknown: never a downgrade)."""
    parts = (version or "").strip().split(".")
    if not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def is_downgrade(current: str, target: str) -> bool:
    """Installing `target` on a device running `current` goes back to an older version."""
    now, then = version_key(current), version_key(target)
    return now is not None and then is not None and then < now
