"""What each device keeps in flash, in a JSON file ({mac: {"secret": ..., "claim_token": ...}}),
across runs like flash survives a reboot. The claim token is made at first boot and forgotten,
with the secret, by a factory reset."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("devices.simulator")

# A thousand devices registering at once would otherwise rewrite the file a thousand times.
FLUSH_DELAY = 0.5


class SecretStore:
    """Secrets and claim tokens by MAC; writes to disk are coalesced and atomic (temporary file,
    then rename). Files of the older {mac: secret} form are read too."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path else None
        self._flash: dict[str, dict[str, str]] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        if self.path and self.path.exists():
            data = json.loads(self.path.read_text() or "{}")
            if not isinstance(data, dict):
                raise ValueError(f"{self.path}: expected a JSON object {{mac: {{secret, claim_token}}}}")
            for mac, kept in data.items():
                kept = kept if isinstance(kept, dict) else {"secret": kept}
                self._flash[str(mac).upper()] = {k: str(v) for k, v in kept.items() if v}

    def get(self, mac: str) -> str | None:
        return self._flash.get(mac, {}).get("secret")

    def set(self, mac: str, secret: str) -> None:
        self._flash.setdefault(mac, {})["secret"] = secret
        self._schedule()

    def claim_token(self, mac: str) -> str:
        """The device's claim token, made (and kept) the first time it is asked for."""
        kept = self._flash.setdefault(mac, {})
        if "claim_token" not in kept:
            kept["claim_token"] = secrets.token_urlsafe(24)
            self._schedule()
        return kept["claim_token"]

    def forget(self, mac: str) -> None:
        """A factory reset: the secret and the claim token go."""
        if self._flash.pop(mac, None) is not None:
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
            tmp.write_text(json.dumps(self._flash, indent=1, sort_keys=True))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("Could not save device secrets to %s: %s", self.path, exc)
