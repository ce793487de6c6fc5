"""What the apps above communities add to its pages and writes, filled in their AppConfig.ready().

communities names no app above it (weather, devices, ...): they register here instead.
"""

from __future__ import annotations

from collections.abc import Callable

ADDRESS_FIELDS = ("country", "state", "city", "post_code", "street")

# (community_id) -> None, inside the transaction of a create or an edit that changed the address
address_changed: list[Callable] = []
# (actor, community) -> dict | None: a panel of the community page, {"template": ..., **context}
community_panels: list[Callable] = []


def register(registry: list[Callable], hook: Callable) -> Callable:
    """Add `hook` once (ready() may run twice in tests)."""
    if hook not in registry:
        registry.append(hook)
    return hook


def announce_address_changed(community_id: int) -> None:
    for hook in address_changed:
        hook(community_id)


def panels(actor, community) -> list[dict]:
    return [p for hook in community_panels if (p := hook(actor, community))]
