"""A simulated device's event uploader: door and call events, buffered while the device is
offline and posted in batches to /device-api/v1/events (docs/device-api.md, "Events").

It uploads what the device recorded in its own door log (the LAN API's `local.door_log`: relay
triggers, and the access attempts with PINs and cards), and with `--events-per-minute` also
makes synthetic traffic: PIN / card / face / app entries, some refused, calls, a few images."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections import deque
from datetime import UTC, datetime

from .portal import PortalUnavailable

log = logging.getLogger("devices.simulator")

BATCH_SIZE = 50
MAX_BUFFER = 10_000  # flash is finite: the oldest events go first
FLUSH_SECONDS = 2.0
# The LAN API's door-log Type -> the device API's method.
METHODS = {
    "pin": "pin", "private pin": "pin", "public pin": "pin", "card": "rf_card", "rf card": "rf_card",
    "rf_card": "rf_card", "face": "face", "bluetooth": "bluetooth", "ble": "bluetooth", "nfc": "nfc",
    "call": "call", "http": "app", "app": "app", "remote": "app",
}  # fmt: skip
SYNTHETIC_METHODS = ["pin", "rf_card", "face", "app", "bluetooth", "nfc", "call"]
# The smallest JPEG: a 1x1 frame between the start and end markers (what a camera would send).
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb0043000806060706050807070709090808"
    "0a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434"
    "341f27393d38323c2e333432ffc0000b080001000101011100ffc40014000100000000000000000000"
    "000000000009ffc40014100100000000000000000000000000000000ffda0008010100003f00d2cf20ffd9"
)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def door_log_event(entry: dict, token: str) -> dict:
    """An entry of the device's LAN door log as a device API event."""
    try:
        stamp = time.mktime(time.strptime(f"{entry.get('Date')} {entry.get('Time')}", "%Y-%m-%d %H:%M:%S"))
    except (TypeError, ValueError):
        stamp = time.time()
    event = {
        "type": "door",
        "id": f"{token}-{entry.get('ID')}",
        "time": _iso(stamp),
        "method": METHODS.get(str(entry.get("Type", "")).strip().lower(), "app"),
        "credential": str(entry.get("Code") or "")[:64],
        "result": "success" if entry.get("Status") == "Succ" else "refused",
    }
    try:
        relay = int(entry.get("Relay") or 0)
    except ValueError:
        relay = 0
    if 1 <= relay <= 4:
        event["relay"] = relay
    user_id = str(entry.get("UserID") or "")
    if user_id.isdigit():
        event["user_id"] = int(user_id)
    return event


class EventUploader:
    """One device's outbox. `record` buffers; `flush` posts batches while the device is online."""

    def __init__(self, device, *, batch_size: int = BATCH_SIZE, max_buffer: int = MAX_BUFFER) -> None:
        self.device = device
        self.batch_size = batch_size
        self.buffer: deque[dict] = deque(maxlen=max_buffer)
        self.images: deque[tuple[str, str]] = deque(maxlen=max_buffer)
        self.sent = 0
        self.refused = 0
        self._local = None
        self._token = ""
        self._next_log = 1
        self._serial = 0
        self._run_token = secrets.token_hex(4)

    def record(self, event: dict, *, image: bool = False) -> None:
        self.buffer.append(event)
        if image:
            self.images.append((event["type"], event["id"]))

    def collect_door_log(self) -> None:
        """Buffer the entries the device's own door log gained since the last look."""
        local = self.device.local
        if local is not self._local:  # first look, or a factory reset: a new log, new ids
            self._local, self._token, self._next_log = local, secrets.token_hex(4), 1
        for entry in reversed(local.door_log):  # newest first in the log
            try:
                number = int(entry.get("ID", 0))
            except ValueError:
                continue
            if number >= self._next_log:
                self.record(door_log_event(entry, self._token))
                self._next_log = number + 1

    def synthetic(self, rng: random.Random, *, image_percent: float = 5.0) -> None:
        """One made-up event: mostly door entries (a tenth refused), some calls."""
        self._serial += 1
        now = time.time()
        event_id = f"sim-{self._run_token}-{self._serial}"
        if rng.random() < 0.2:
            event = {
                "type": "call", "id": event_id, "time": _iso(now), "caller": self.device.spec.mac,
                "callee": f"APT {rng.randint(101, 120)}", "duration": rng.randint(0, 120),
                "answered": rng.random() < 0.7,
            }  # fmt: skip
        else:
            method = rng.choice(SYNTHETIC_METHODS)
            event = {
                "type": "door", "id": event_id, "time": _iso(now), "relay": 1, "method": method,
                "credential": f"{rng.randint(0, 99999999):08d}" if method in ("pin", "rf_card") else "",
                "result": "refused" if rng.random() < 0.1 else "success",
            }  # fmt: skip
        self.record(event, image=rng.random() * 100 < image_percent)

    async def flush(self) -> int:
        """Post what is buffered, batch by batch; stops (keeping the rest) when the portal is
        unreachable or the device offline. A batch the portal refuses (4xx but 401) is dropped:
        sending it again would be refused again."""
        device, posted = self.device, 0
        while self.buffer and device.registered and device.up:
            batch = [self.buffer[i] for i in range(min(self.batch_size, len(self.buffer)))]
            try:
                reply = await device.portal.events(device._auth(), batch)
            except PortalUnavailable:
                return posted
            if reply.ok:
                for _ in batch:
                    self.buffer.popleft()
                self.sent += len(batch)
                posted += len(batch)
            elif reply.status in (401, 429) or reply.status >= 500:
                return posted  # try again later, in the same order
            else:
                for _ in batch:
                    self.buffer.popleft()
                self.refused += len(batch)
                device._problem("events", reply.describe())
        while self.images and not self.buffer and device.registered and device.up:
            kind, event_id = self.images[0]
            try:
                reply = await device.portal.event_image(device._auth(), kind, event_id, TINY_JPEG)
            except PortalUnavailable:
                return posted
            if reply.status in (401, 429) or reply.status >= 500:
                return posted
            self.images.popleft()
        return posted

    async def run(self, events_per_minute: float, rng: random.Random, *, image_percent: float = 5.0) -> None:
        """Until cancelled: make events at the rate, look at the door log, flush every few seconds."""
        rate = events_per_minute / 60.0
        owed, last = 0.0, asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(FLUSH_SECONDS * rng.uniform(0.8, 1.2))
            now = asyncio.get_running_loop().time()
            owed += (now - last) * rate
            last = now
            while owed >= 1:
                owed -= 1
                self.synthetic(rng, image_percent=image_percent)
            self.collect_door_log()
            try:
                await self.flush()
            except Exception:  # never let the outbox take the device down
                log.exception("%s: event upload failed", self.device.mac)
