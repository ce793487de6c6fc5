"""A fleet: every simulated device of one run, sharing one HTTP connection pool and one LAN server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import resource

import aiohttp

from .device import Device, Timing
from .lan import LanServer
from .portal import PortalClient
from .problems import ProblemLog
from .spec import DeviceSpec, lan_addresses, pick_roles
from .state import SecretStore

log = logging.getLogger("devices.simulator")

# Enough parallel requests to keep a portal busy, few enough not to exhaust its workers or our sockets.
CONNECTION_LIMIT = 64
REQUEST_TIMEOUT = 15.0


def raise_open_files_limit() -> int:
    """Lift the soft RLIMIT_NOFILE to the hard one: each device holds a listener, plus the pool."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Fleet:
    def __init__(
        self,
        portal: str,
        devices: list[DeviceSpec],
        *,
        dead_percent: float = 0,
        slow_percent: float = 0,
        interval: float | None = None,
        lan_network: str = "127.77.0.0/16",
        lan_port: int = 8480,
        state_path=None,
        seed: int = 0,
        reboot_seconds: float = 5.0,
        slow_seconds: float = 5.0,
        connection_limit: int = CONNECTION_LIMIT,
        request_timeout: float = REQUEST_TIMEOUT,
        provisioning_code: str = "",
    ) -> None:
        macs = [spec.mac for spec in devices]
        if len(set(macs)) != len(macs):
            raise ValueError("The device list names a MAC twice")
        self.portal_url = portal
        self.specs = list(devices)
        self.lan_network = lan_network
        self.lan_port = lan_port
        self.addresses = lan_addresses(lan_network, len(devices))
        self.dead_indexes, self.slow_indexes = pick_roles(len(devices), dead_percent, slow_percent, seed)
        self.timing = Timing(
            interval=interval,
            reboot_seconds=reboot_seconds,
            slow_seconds=slow_seconds,
            provisioning_code=provisioning_code,
        )
        self.store = SecretStore(state_path)
        self.seed = seed
        self.connection_limit = connection_limit
        self.request_timeout = request_timeout
        self.devices: list[Device] = []
        self._session: aiohttp.ClientSession | None = None
        self._lan: LanServer | None = None
        self._tasks: list[asyncio.Task] = []

    @property
    def dead_macs(self) -> set[str]:
        return {self.specs[i].mac for i in self.dead_indexes}

    @property
    def slow_macs(self) -> set[str]:
        return {self.specs[i].mac for i in self.slow_indexes}

    def describe(self) -> str:
        """The one line the CLI prints at start."""
        span = f"{self.addresses[0]}-{self.addresses[-1]}" if self.addresses else "none"
        return (
            f"Simulating {len(self.specs)} devices ({len(self.dead_indexes)} dead, "
            f"{len(self.slow_indexes)} slow) against {self.portal_url}; "
            f"LAN API on {span} port {self.lan_port}"
        )

    async def start(self) -> None:
        """Open the pool and the LAN server, power every device on; returns without waiting for them."""
        raise_open_files_limit()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connection_limit),
            timeout=aiohttp.ClientTimeout(total=self.request_timeout),
        )
        self._lan = LanServer()
        await self._lan.start()
        portal = PortalClient(self.portal_url, self._session)
        problems = ProblemLog()
        for i, spec in enumerate(self.specs):
            device = Device(
                spec=spec,
                portal=portal,
                store=self.store,
                lan=self._lan,
                lan_address=self.addresses[i],
                lan_port=self.lan_port,
                timing=self.timing,
                dead=i in self.dead_indexes,
                slow=i in self.slow_indexes,
                rng=random.Random(f"{self.seed}:{spec.mac}"),
                problems=problems,
            )
            self.devices.append(device)
        # Bind every LAN listener before any device runs, so a taken address fails the start loudly.
        for device in self.devices:
            await self._lan.open(device)
        for device in self.devices:
            self._tasks.append(asyncio.create_task(self._supervise(device), name=f"device-{device.mac}"))

    async def _supervise(self, device: Device) -> None:
        """A bug in one device must not take the fleet down: log it and power the device on again."""
        while True:
            try:
                await device.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s crashed; restarting it", device.mac)
                with contextlib.suppress(Exception):
                    await device.lan.close(device)
                await asyncio.sleep(max(1.0, self.timing.reboot_seconds))

    async def wait_settled(self, timeout: float) -> list[str]:
        """Wait until every device finished starting; return the live MACs still unregistered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and not all(d.settled for d in self.devices):
            await asyncio.sleep(0.05)
        return [d.mac for d in self.devices if not d.dead and not d.registered]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._lan is not None:
            await self._lan.stop()
            self._lan = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.store.flush()

    def truth(self) -> dict[str, dict]:
        return {d.mac: d.truth() for d in self.devices}
