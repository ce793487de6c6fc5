"""One simulated intercom: registration, heartbeats and the commands they deliver (docs/device-api.md).

A device is a single coroutine, like the single cloud thread of a real intercom: register, then
heartbeat every interval (or at once when nudged over the LAN), running the commands each
heartbeat returns in order before the next one. Restarts (reboot, reset, upgrade) happen inside
that coroutine: the LAN listener closes, nothing is sent for `reboot_seconds`, then the device
heartbeats at once, as a real one does after boot.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

from .lanapi import LanApi, LocalData
from .portal import PortalClient, PortalUnavailable, Reply, basic_auth
from .problems import ProblemLog
from .spec import DeviceSpec, model_for
from .state import SecretStore

log = logging.getLogger("devices.simulator")


def _retry_after(reply: Reply) -> float:
    value = reply.data.get("retry_after")
    return float(value) if isinstance(value, int | float) and value > 0 else 1.0


class LanControl(Protocol):
    """What a device needs of the LAN server: its listener opened and closed with its power."""

    async def open(self, device: Device) -> None: ...

    async def close(self, device: Device) -> None: ...


@dataclass
class Timing:
    """The run-wide knobs every device shares."""

    interval: float | None = None  # overrides the portal's heartbeat_interval when set
    reboot_seconds: float = 5.0
    slow_seconds: float = 5.0
    default_interval: float = 30.0  # until the portal says otherwise
    # The installer's provisioning code, set on every device like the server URL (it survives a
    # factory reset, as settings from the network's provisioning server do); "" for none.
    provisioning_code: str = ""


@dataclass
class PendingResult:
    """A command result the portal has not acknowledged yet; re-sent after each heartbeat."""

    command_id: object
    body: dict
    auth: str  # the credentials of the time: a reset must not re-sign an old result


@dataclass
class Device:
    spec: DeviceSpec
    portal: PortalClient
    store: SecretStore
    lan: LanControl
    lan_address: str
    lan_port: int
    timing: Timing
    dead: bool = False
    slow: bool = False
    rng: random.Random = field(default_factory=random.Random)
    problems: ProblemLog = field(default_factory=ProblemLog)  # shared by the fleet

    # What the device is and knows; sim.truth() reports these.
    firmware_version: str = ""
    model: str = ""
    secret: str | None = None
    config: dict[str, str] = field(default_factory=dict)
    commands: list[list] = field(default_factory=list)
    up: bool = False  # powered and not restarting: heartbeats and the LAN API work
    online: bool = False  # up, and the portal accepted its last heartbeat
    settled: bool = False  # start-up finished: registered (live) or done with its one heartbeat (dead)
    busy: bool = False  # running a command
    interval: float = 0.0
    booted_at: float = 0.0  # time.time() of the last power-on (the LAN API's uptime)
    local: LocalData = field(default_factory=LocalData)  # users, schedules, logs of the LAN API

    def __post_init__(self) -> None:
        self.mac = self.spec.mac
        self.firmware_version = self.firmware_version or self.spec.firmware_version
        self.model = self.model or model_for(self.firmware_version)
        self.secret = self.store.get(self.mac)
        self.interval = self.timing.interval or self.timing.default_interval
        self._seen: set = set()
        self._pending: list[PendingResult] = []
        self._nudge = asyncio.Event()
        self._reboot_requested = False

    # -- public face -------------------------------------------------------------------------------

    @property
    def registered(self) -> bool:
        return self.secret is not None

    def nudge(self) -> None:
        """The LAN API's /api/cloud/poll: heartbeat now instead of at the next interval."""
        self._nudge.set()

    def request_reboot(self) -> None:
        """The LAN API's /api/system/reboot: restart as soon as the reply has gone out."""
        self._reboot_requested = True
        self._nudge.set()

    def truth(self) -> dict:
        return {
            "firmware_version": self.firmware_version,
            "model": self.model,
            "dead": self.dead,
            "slow": self.slow,
            "registered": self.registered,
            "online": self.online,
            "config": [f"{key} = {value}" for key, value in self.config.items()],
            "commands": [list(entry) for entry in self.commands],
            "weather": dict(self.local.weather),
            "lan_address": self.lan_address,
            "lan_port": self.lan_port,
            "users_version": self.local.users_version,
            "users": [dict(u) for u in self.local.users.values()],
            "attempts": [dict(a) for a in self.local.attempts],
        }

    async def run(self) -> None:
        """The device's whole life; cancelled by the fleet on shutdown."""
        try:
            await self._power_on()
            if self.dead:
                await self._live_once_then_die()
                return
            await self._register()
            self.settled = True
            # Spread the fleet's first heartbeats over one interval instead of a burst.
            await self._wait(self.rng.uniform(0, self.interval))
            while True:
                if self._reboot_requested:
                    self._reboot_requested = False
                    await self._restart()
                await self._heartbeat()
                await self._wait(self.interval)
        finally:
            self.up = self.online = False

    # -- life cycle ----------------------------------------------------------------------------------

    async def _power_on(self) -> None:
        self.up = True
        self.booted_at = time.time()
        await self.lan.open(self)

    async def _power_off(self) -> None:
        self.up = self.online = False
        await self.lan.close(self)

    async def _restart(self) -> None:
        """Offline for reboot_seconds (no heartbeats, LAN closed), then up and heartbeating at once."""
        await self._power_off()
        await asyncio.sleep(self.timing.reboot_seconds)
        self._nudge.clear()
        await self._power_on()
        await self._register()
        self._nudge.set()

    async def _factory_reset(self) -> None:
        """Forget the secret and the configuration, restart, register again."""
        self.secret = None
        self.config.clear()
        self.local = LocalData()
        self.store.forget(self.mac)
        await self._restart()

    async def _live_once_then_die(self) -> None:
        """A dead device: known to the portal (registration and one heartbeat), then silent forever."""
        try:
            await self._register()
            while not await self._heartbeat(run_commands=False):
                await self._wait(self.interval)
        finally:
            self.settled = True
            await self._power_off()

    async def _wait(self, seconds: float) -> None:
        """Sleep until the next heartbeat is due, or until a LAN nudge."""
        try:
            async with asyncio.timeout(max(0.0, seconds)):
                await self._nudge.wait()
        except TimeoutError:
            pass
        self._nudge.clear()

    def _problem(self, what: str, reason: str) -> None:
        self.problems.report(self.mac, f"{what}: {reason}")

    def _auth(self) -> str:
        return basic_auth(self.mac, self.secret or "")

    def _adopt_interval(self, reply: Reply) -> None:
        if self.timing.interval:
            return
        value = reply.data.get("heartbeat_interval")
        if isinstance(value, int | float) and value > 0:
            self.interval = float(value)

    # -- portal calls --------------------------------------------------------------------------------

    async def _register(self) -> None:
        """Register until the portal issues a secret; a stored secret means this was done before."""
        while self.secret is None:
            if await self._try_register():
                return
            if self.dead and not self.settled:
                self.settled = True  # start() need not wait for a dead device the portal refuses
            await self._wait(self.interval)

    async def _try_register(self) -> bool:
        # A reset's "done" still owed (signed with the old secret) is what opens the device's
        # registration again in the portal.
        await self._send_pending()
        claim_token = self.store.claim_token(self.mac)
        try:
            reply = await self.portal.register(
                self.mac,
                self.model,
                self.firmware_version,
                claim_token,
                self.spec.provisioning_code or self.timing.provisioning_code,
            )
        except PortalUnavailable as exc:
            self._problem("register failed", str(exc))
            return False
        secret = reply.data.get("secret")
        if reply.status == 201 and isinstance(secret, str) and secret:
            self.secret = secret
            self.store.set(self.mac, secret)
            self._adopt_interval(reply)
            self.problems.resolved(self.mac)
            log.debug("%s registered", self.mac)  # a thousand lines at start say nothing; the CLI sums up
            return True
        if reply.status == 202:
            # Unknown, or waiting for the installer to adopt it: the same answer. Ask again later
            # with the same claim token (a lost reply is recovered the same way).
            self._problem("register pending", "waiting for the installer to adopt the device")
        elif reply.status == 429:
            self._problem("register refused", "too many first contacts; backing off")
            await asyncio.sleep(min(60.0, max(self.interval, _retry_after(reply))))
        else:
            self._problem("register failed", reply.describe())
        return False

    async def _heartbeat(self, *, run_commands: bool = True) -> bool:
        """One heartbeat, then the results still owed and the commands it delivered. True if accepted."""
        body = {
            "model": self.model,
            "firmware_version": self.firmware_version,
            "lan_address": self.lan_address,
            "lan_port": self.lan_port,
            "status": "idle",
        }
        try:
            reply = await self.portal.heartbeat(self._auth(), body)
        except PortalUnavailable as exc:
            self.online = False
            self._problem("heartbeat failed", str(exc))
            return False
        if reply.status == 401:
            self.online = False
            self._problem("heartbeat refused", "secret not accepted; trying to register again")
            # Keep the old secret unless the portal hands out a new one (the installer adopts the
            # device again, or a reset done opened its registration).
            if await self._try_register():
                self._nudge.set()  # heartbeat with the new secret right away
            return False
        if not reply.ok:
            self.online = False
            self._problem("heartbeat failed", reply.describe())
            return False
        self.online = True
        self.problems.resolved(self.mac)
        self._adopt_interval(reply)
        await self._send_pending()
        commands = reply.data.get("commands") or []
        if run_commands and isinstance(commands, list):
            for command in commands:
                if isinstance(command, dict):
                    await self._run(command)
        return True

    async def _report(self, command_id, kind: str, status: str, message: str) -> None:
        """Record what the device did (the truth), then tell the portal; kept for retry if it is away."""
        self.commands.append([command_id, kind, status, message])
        body = {"status": status, "message": message, "firmware_version": self.firmware_version}
        self._pending.append(PendingResult(command_id, body, self._auth()))
        await self._send_pending()

    async def _send_pending(self) -> None:
        while self._pending:
            result = self._pending[0]
            try:
                reply = await self.portal.report(result.auth, result.command_id, result.body)
            except PortalUnavailable as exc:
                self._problem(f"result of command {result.command_id} not delivered", str(exc))
                return
            if reply.status >= 500:
                self._problem(f"result of command {result.command_id} not delivered", reply.describe())
                return
            if not reply.ok:  # 404 (not ours) or 401 (secret gone): sending again cannot help
                log.warning("%s result of %s refused: %s", self.mac, result.command_id, reply.describe())
            self._pending.pop(0)

    # -- commands ------------------------------------------------------------------------------------

    async def _run(self, command: dict) -> None:
        command_id, kind = command.get("id"), str(command.get("kind", ""))
        if command_id is None or command_id in self._seen:
            return  # re-delivered: it ran already
        self._seen.add(command_id)
        log.info("%s running command %s (%s)", self.mac, command_id, kind)
        self.busy = True
        try:
            if self.slow:
                await asyncio.sleep(self.timing.slow_seconds)
            await self._dispatch(command_id, kind, command)
        finally:
            self.busy = False

    async def _dispatch(self, command_id, kind: str, command: dict) -> None:
        handler = {
            "reboot": self._reboot,
            "reset": self._reset,
            "autop": self._autop,
            "upgrade": self._upgrade,
            "weather": self._weather,
            "users": self._users,
        }.get(kind)
        if handler is None:
            await self._report(command_id, kind, "failed", f"Unknown command: {kind}")
            return
        await handler(command_id, command)

    async def _reboot(self, command_id, command: dict) -> None:
        await self._report(command_id, "reboot", "done", "Rebooting")
        await self._restart()

    async def _reset(self, command_id, command: dict) -> None:
        await self._report(command_id, "reset", "done", "Factory reset")
        await self._factory_reset()

    async def _weather(self, command_id, command: dict) -> None:
        """What a C319 shows on its home screen (the LAN API's /api/weather/get)."""
        weather = command.get("weather")
        if not isinstance(weather, dict) or "temperature" not in weather:
            await self._report(command_id, "weather", "failed", "Weather command without a temperature")
            return
        self.local.weather = {**weather, "received_at": int(time.time())}
        shown = f"{weather.get('temperature')} °{weather.get('unit', 'C')}, {weather.get('condition', '')}"
        await self._report(command_id, "weather", "done", f"Showing {shown}")

    async def _autop(self, command_id, command: dict) -> None:
        url = command.get("url")
        if not url:
            await self._report(command_id, "autop", "failed", "No AutoP URL")
            return
        try:
            reply = await self.portal.fetch_text(url, self._auth())
        except PortalUnavailable as exc:
            await self._report(command_id, "autop", "failed", f"AutoP download failed: {exc}")
            return
        if not reply.ok:
            await self._report(command_id, "autop", "failed", f"AutoP download failed: {reply.describe()}")
            return
        applied = 0
        for raw in reply.text.splitlines():
            key, sep, value = raw.strip().partition("=")
            key = key.strip()
            if sep and key.startswith("Config."):
                # Items merge into what the device has, like a real AutoP: one-time items stay applied.
                self.config[key] = value.strip()
                applied += 1
        await self._report(command_id, "autop", "done", f"Applied {applied} configuration items")

    async def _users(self, command_id, command: dict) -> None:
        """Fetch the whole credential list at the command's link and keep it (the portal records
        the version it served as acknowledged when this reports done)."""
        url = command.get("url")
        if not url:
            await self._report(command_id, "users", "failed", "No users URL")
            return
        try:
            reply = await self.portal.fetch_json(url, self._auth())
        except PortalUnavailable as exc:
            await self._report(command_id, "users", "failed", f"Users download failed: {exc}")
            return
        if not reply.ok:
            await self._report(command_id, "users", "failed", f"Users download failed: {reply.describe()}")
            return
        count = LanApi(self).store_users(reply.data)
        await self._report(
            command_id, "users", "done", f"Stored {count} users (version {self.local.users_version})"
        )

    async def _upgrade(self, command_id, command: dict) -> None:
        url, version = command.get("url"), str(command.get("version") or "")
        expected = str(command.get("sha256") or "").lower()
        if not url or not version:
            await self._report(command_id, "upgrade", "failed", "Upgrade command without url or version")
            return
        try:
            reply, digest, _size = await self.portal.download(url, self._auth())
        except PortalUnavailable as exc:
            await self._report(command_id, "upgrade", "failed", f"Download failed: {exc}")
            return
        if not reply.ok:
            await self._report(command_id, "upgrade", "failed", f"Download failed: {reply.describe()}")
            return
        if digest != expected:
            await self._report(command_id, "upgrade", "failed", "Checksum mismatch")
            return
        # Flash, then boot into the new image; the result goes out from the new version.
        self.firmware_version = version
        if (model := model_for(version)) != "Unknown":
            self.model = model
        await self._restart()
        await self._report(command_id, "upgrade", "done", f"Upgraded to {version}")
        if command.get("reset_after_upgrade"):
            await self._factory_reset()
