"""The registries through which an app hears of, or adds to, the work of an app below it.

A lower app keeps its registries (lists of callables) in its own `hooks` module and names no app
above it; the apps above add their callables there from their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable


def register(registry: list[Callable], hook: Callable) -> Callable:
    """Add `hook` once (ready() may run twice in tests)."""
    if hook not in registry:
        registry.append(hook)
    return hook
