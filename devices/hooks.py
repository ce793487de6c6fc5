"""What the apps above devices add to its pages, filled in their AppConfig.ready().

devices names no app above it; access (credential versions) reaches the device page here, and
tells logs who the users named in a device's events are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    """A block of the device page: `template` rendered with `context` (plus the page's own)."""

    template: str
    context: dict


# (actor, device) -> Panel | None
device_panels: list[Callable] = []
# (device, user ids) -> {user id: resident id}: the residents behind the UserIDs a device names in
# its door events (the UserIDs of the user list it was given), within the device's community
event_users: list[Callable] = []


def register(registry: list[Callable], hook: Callable) -> Callable:
    """Add `hook` once (ready() may run twice in tests)."""
    if hook not in registry:
        registry.append(hook)
    return hook


def panels(actor, device) -> list[Panel]:
    return [p for hook in device_panels if (p := hook(actor, device)) is not None]


def event_residents(device, user_ids) -> dict[int, int]:
    """The resident id behind each UserID of the device's user list that a hook knows."""
    found: dict[int, int] = {}
    for hook in event_users:
        found.update(hook(device, user_ids) or {})
    return found
