"""`Simulator`: a fleet on its own event loop in a background thread, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import threading
import time

from .fleet import Fleet
from .spec import DeviceSpec

DRAIN_SECONDS = 0.3


class SimulatorError(RuntimeError):
    """The fleet could not start, or some live devices did not register in time."""


class Simulator:
    """Synchronous handle on a running fleet; see docs/device-api.md for what the devices do."""

    def __init__(self, portal: str, devices: list[DeviceSpec], **options) -> None:
        """`options` are Fleet's, keyword-only: dead_percent, slow_percent, interval, lan_network,
        lan_port, state_path, seed, reboot_seconds, slow_seconds, connection_limit, provisioning_code,
        lan_auth ("none", "allowlist", "basic", "digest"), lan_username, lan_password, lan_allow."""
        self.fleet = Fleet(portal, devices, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def dead_macs(self) -> set[str]:
        return self.fleet.dead_macs

    @property
    def slow_macs(self) -> set[str]:
        return self.fleet.slow_macs

    def start(self, timeout: float = 30.0) -> Simulator:
        """Run the fleet; return once every live device has registered, else stop and raise."""
        if self._thread is not None:
            raise SimulatorError("The simulator was started already")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="device-simulator", daemon=True)
        self._thread.start()
        try:
            self._call(self.fleet.start(), timeout=timeout)
            missing = self._call(self.fleet.wait_settled(timeout), timeout=timeout + 5)
        except BaseException:
            self.stop()
            raise
        if missing:
            self.stop()
            shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
            raise SimulatorError(f"{len(missing)} devices did not register within {timeout:g} s: {shown}")
        return self

    def truth(self) -> dict[str, dict]:
        """What each device is and did, by MAC: the ground truth to compare the portal against."""
        if self._loop is not None and self._loop.is_running():
            return self._call(self._snapshot(), timeout=10)
        return self.fleet.truth()

    async def _snapshot(self) -> dict[str, dict]:
        return self.fleet.truth()  # read on the loop's thread, so never half-way through a change

    def stop(self) -> None:
        """Stop every device and close every socket; safe to call twice."""
        if self._stopped or self._loop is None:
            self._stopped = True
            return
        self._stopped = True
        try:
            if self._loop.is_running():
                self._call(self.fleet.close(), timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            if not self._loop.is_running():
                self._loop.close()
            # A request sent just before the stop may still be running in the portal: a caller
            # that empties the portal's tables next (a test's flush) would deadlock with it.
            time.sleep(DRAIN_SECONDS)

    def _call(self, coro, timeout: float):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
