"""A fleet: every simulated device of one run, sharing one LAN server and a cap on portal requests.

Each device opens its portal connections from its own LAN address, as a real intercom does, so
the portal tells the devices apart by the address their connections come from (the only address
it will dial them at). On loopback that works without any setup: Linux routes all of 127/8.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import resource

import aiohttp

from .device import Device, Timing
from .events import EventUploader
from .lan import LanAuth, LanServer
from .portal import PortalClient
from .problems import ProblemLog
from .spec import DeviceSpec, lan_addresses, pick_roles
from .state import SecretStore

log = logging.getLogger("devices.simulator")

# Enough parallel requests to keep a portal busy, few enough not to exhaust its workers or our sockets.
CONNECTION_LIMIT = 64
REQUEST_TIMEOUT = 15.0


class BoundedSession:
    """One device's HTTP client (bound to its address), under the fleet's cap on requests in
    flight: a thousand devices booting at once must not exhaust the portal's workers."""

    def __init__(self, session: aiohttp.ClientSession, limit: asyncio.Semaphore) -> None:
        self.session, self.limit = session, limit

    @contextlib.asynccontextmanager
    async def request(self, method: str, url: str, **kwargs):
        async with self.limit, self.session.request(method, url, **kwargs) as response:
            yield response

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    async def close(self) -> None:
        await self.session.close()


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
        lan_auth: str = "none",
        lan_username: str = "admin",
        lan_password: str = "admin",
        lan_allow: tuple[str, ...] = ("127.0.0.1",),
        events_per_minute: float = 0.0,
        image_percent: float = 5.0,
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
        self.lan_auth = LanAuth(lan_auth, lan_username, lan_password, tuple(lan_allow))
        self.devices: list[Device] = []
        self._sessions: list[BoundedSession] = []
        self._lan: LanServer | None = None
        self._tasks: list[asyncio.Task] = []
        # Door and call events (devices.simulator.events): made per device at this rate, plus
        # what each device's own door log records; buffered while offline.
        self.events_per_minute = events_per_minute
        self.image_percent = image_percent
        self.uploaders: dict[str, EventUploader] = {}

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
            f"LAN API on {span} port {self.lan_port} (authentication: {self.lan_auth.mode})"
        )

    async def start(self) -> None:
        """Open the pool and the LAN server, power every device on; returns without waiting for them."""
        raise_open_files_limit()
        self._lan = LanServer(self.lan_auth)
        await self._lan.start()
        limit = asyncio.Semaphore(self.connection_limit)
        problems = ProblemLog()
        for i, spec in enumerate(self.specs):
            session = BoundedSession(
                aiohttp.ClientSession(
                    # The device's connections come from its own LAN address.
                    connector=aiohttp.TCPConnector(local_addr=(self.addresses[i], 0), limit=2),
                    timeout=aiohttp.ClientTimeout(total=self.request_timeout),
                ),
                limit,
            )
            self._sessions.append(session)
            device = Device(
                spec=spec,
                portal=PortalClient(self.portal_url, session),
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
        for device in self.devices:
            if device.dead:
                continue
            uploader = self.uploaders[device.mac] = EventUploader(device)
            rng = random.Random(f"{self.seed}:{device.mac}:events")
            task = uploader.run(self.events_per_minute, rng, image_percent=self.image_percent)
            self._tasks.append(asyncio.create_task(task, name=f"events-{device.mac}"))

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
        for session in self._sessions:
            await session.close()
        self._sessions.clear()
        self.store.flush()

    def truth(self) -> dict[str, dict]:
        return {d.mac: d.truth() for d in self.devices}
