"""The devices' secrets, kept across runs in a JSON file ({mac: secret}) like flash survives a reboot."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

log = logging.getLogger("devices.simulator")

# A thousand devices registering at once would otherwise rewrite the file a thousand times.
FLUSH_DELAY = 0.5


class SecretStore:
    """Secrets by MAC; writes to disk are coalesced and atomic (temporary file, then rename)."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path else None
        self._secrets: dict[str, str] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        if self.path and self.path.exists():
            data = json.loads(self.path.read_text() or "{}")
            if not isinstance(data, dict):
                raise ValueError(f"{self.path}: expected a JSON object {{mac: secret}}")
            self._secrets = {str(mac).upper(): str(secret) for mac, secret in data.items()}

    def get(self, mac: str) -> str | None:
        return self._secrets.get(mac)

    def set(self, mac: str, secret: str) -> None:
        self._secrets[mac] = secret
        self._schedule()

    def forget(self, mac: str) -> None:
        if self._secrets.pop(mac, None) is not None:
            self._schedule()

    def _schedule(self) -> None:
        if self.path is None or self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_handle = loop.call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Write the file now (also called on shutdown so no secret is lost)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(self._secrets, indent=1, sort_keys=True))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("Could not save device secrets to %s: %s", self.path, exc)
