"""What the apps above communities add to the dashboard, filled in their AppConfig.ready().

communities names no app above it; pmportal's per-community cards and the installer's fleet
overview reach the dashboard here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    """A block of the dashboard: `template` rendered with `context` (plus the page's own)."""

    template: str
    context: dict


# (actor) -> Panel | None
dashboard_panels: list[Callable] = []


def register(registry: list[Callable], hook: Callable) -> Callable:
    """Add `hook` once (ready() may run twice in tests)."""
    if hook not in registry:
        registry.append(hook)
    return hook


def panels(actor) -> list[Panel]:
    return [p for hook in dashboard_panels if (p := hook(actor)) is not None]
