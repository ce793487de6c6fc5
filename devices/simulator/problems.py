"""Brief logging of failures: when the portal is down, a thousand devices fail the same way at once."""

from __future__ import annotations

import logging
import time
from collections import Counter

log = logging.getLogger("devices.simulator")


class ProblemLog:
    """Logs a failure when a device first meets it; the same failure on other devices within
    `quiet_seconds` is counted instead and summed up on the next line that is logged."""

    def __init__(self, quiet_seconds: float = 10.0) -> None:
        self.quiet_seconds = quiet_seconds
        self._logged_at: dict[str, float] = {}
        self._held_back: Counter[str] = Counter()
        self._current: dict[str, str] = {}  # mac -> its ongoing problem

    def report(self, mac: str, problem: str) -> None:
        if self._current.get(mac) == problem:
            log.debug("%s %s (again)", mac, problem)
            return
        self._current[mac] = problem
        now = time.monotonic()
        last = self._logged_at.get(problem)
        if last is not None and now - last < self.quiet_seconds:
            self._held_back[problem] += 1
            log.debug("%s %s", mac, problem)
            return
        self._logged_at[problem] = now
        others = self._held_back.pop(problem, 0)
        suffix = f" (also {others} other devices since the last such line)" if others else ""
        log.warning("%s %s%s", mac, problem, suffix)

    def resolved(self, mac: str) -> None:
        """The device's calls work again; its next failure is news."""
        self._current.pop(mac, None)
