"""What the apps above devices add to its pages, filled in their AppConfig.ready().

devices names no app above it; access (credential versions) reaches the device page here, tells
logs who the users named in a device's events are, and hears of door devices that need their user
list again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smartplus.hooks import register as register  # the apps above call hooks.register


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
# (device ids) -> None, inside the transaction after devices were added, or their type, relays or
# buildings changed: what they hold of the apps' per-device state is to be sent again (access: the
# door devices' user lists are queued)
devices_changed: list[Callable] = []


def announce_devices_changed(device_ids) -> None:
    ids = sorted({int(pk) for pk in device_ids})
    if ids:
        for hook in devices_changed:
            hook(ids)


def panels(actor, device) -> list[Panel]:
    return [p for hook in device_panels if (p := hook(actor, device)) is not None]


def event_residents(device, user_ids) -> dict[int, int]:
    """The resident id behind each UserID of the device's user list that a hook knows."""
    found: dict[int, int] = {}
    for hook in event_users:
        found.update(hook(device, user_ids) or {})
    return found
