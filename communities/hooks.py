"""What the apps above communities add to its pages and writes, filled in their AppConfig.ready().

communities names no app above it (weather, pmportal, devices, ...): they register here instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smartplus.hooks import register as register  # the apps above call hooks.register

ADDRESS_FIELDS = ("country", "state", "city", "post_code", "street")


@dataclass(frozen=True)
class Panel:
    """A block of the dashboard: `template` rendered with `context` (plus the page's own)."""

    template: str
    context: dict


# (community_id) -> None, inside the transaction of a create or an edit that changed the address
address_changed: list[Callable] = []
# (actor, community) -> dict | None: a panel of the community page, {"template": ..., **context}
community_panels: list[Callable] = []
# (actor) -> Panel | None: a block of the dashboard (pmportal's cards, the fleet overview)
dashboard_panels: list[Callable] = []


def announce_address_changed(community_id: int) -> None:
    for hook in address_changed:
        hook(community_id)


def panels(actor, community) -> list[dict]:
    """The community page's panels."""
    return [p for hook in community_panels if (p := hook(actor, community))]


def dashboard(actor) -> list[Panel]:
    """The dashboard's blocks."""
    return [p for hook in dashboard_panels if (p := hook(actor)) is not None]
