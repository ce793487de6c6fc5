"""The HTTP client a device uses to reach the portal: the calls of docs/device-api.md, nothing more.

Every call returns a `Reply` for any HTTP status; only a failure to get an answer at all (refused
connection, timeout, garbage) raises `PortalUnavailable`, which devices treat as "try again later".
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp

API = "/device-api/v1"
DOWNLOAD_CHUNK = 64 * 1024
# An image may be large and wait behind a thousand devices for a pooled connection: only a stall fails it.
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=60)


class PortalUnavailable(Exception):
    """No usable answer from the portal (network error, timeout, or a body that is not JSON)."""


@dataclass
class Reply:
    status: int
    data: dict = field(default_factory=dict)
    text: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def describe(self) -> str:
        """A short reason for a log line or a failed command: the portal's message, else the status."""
        message = self.data.get("message") or self.data.get("error") or self.text.strip()[:120]
        return f"HTTP {self.status}" + (f": {message}" if message else "")


def basic_auth(mac: str, secret: str) -> str:
    """The Authorization header value of a device: HTTP Basic with its MAC and secret."""
    return "Basic " + base64.b64encode(f"{mac}:{secret}".encode()).decode()


def _headers(auth: str | None) -> dict[str, str] | None:
    return {"Authorization": auth} if auth else None


def _failure(exc: BaseException) -> PortalUnavailable:
    if isinstance(exc, TimeoutError):
        return PortalUnavailable("timed out")
    return PortalUnavailable(f"{type(exc).__name__}: {exc}".strip().rstrip(":"))


class PortalClient:
    """Shares one aiohttp session (and so one bounded connection pool) among all devices."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme, origin.netloc)

    def url(self, path_or_url: str) -> str:
        """Command URLs are absolute in the protocol; a relative one is taken against the portal."""
        return urljoin(self.base_url, path_or_url)

    async def _json_call(self, method: str, url: str, *, auth: str | None = None, body=None) -> Reply:
        try:
            async with self.session.request(method, self.url(url), json=body, headers=_headers(auth)) as resp:
                text = await resp.text()
        except (TimeoutError, aiohttp.ClientError, UnicodeDecodeError) as exc:
            raise _failure(exc) from exc
        data: dict = {}
        if text.strip():
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                data = parsed
            elif 200 <= resp.status < 300:
                raise PortalUnavailable(f"HTTP {resp.status} with a body that is not a JSON object")
        return Reply(resp.status, data, text)

    async def register(
        self, mac: str, model: str, firmware_version: str, claim_token: str, provisioning_code: str = ""
    ) -> Reply:
        body = {"mac": mac, "model": model, "firmware_version": firmware_version, "claim_token": claim_token}
        if provisioning_code:
            body["provisioning_code"] = provisioning_code
        return await self._json_call("POST", f"{API}/register", body=body)

    async def heartbeat(self, auth: str, body: dict) -> Reply:
        return await self._json_call("POST", f"{API}/heartbeat", auth=auth, body=body)

    async def report(self, auth: str, command_id, body: dict) -> Reply:
        return await self._json_call("POST", f"{API}/commands/{command_id}/result", auth=auth, body=body)

    async def events(self, auth: str, events: list[dict]) -> Reply:
        return await self._json_call("POST", f"{API}/events", auth=auth, body={"events": events})

    async def event_image(self, auth: str, kind: str, event_id: str, jpeg: bytes) -> Reply:
        """A captured JPEG of one of the device's events (sent after the event)."""
        headers = {"Authorization": auth, "Content-Type": "image/jpeg"}
        try:
            url = self.url(f"{API}/events/{kind}/{event_id}/image")
            async with self.session.request("POST", url, data=jpeg, headers=headers) as resp:
                text = await resp.text()
        except (TimeoutError, aiohttp.ClientError, UnicodeDecodeError) as exc:
            raise _failure(exc) from exc
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            data = {}
        return Reply(resp.status, data if isinstance(data, dict) else {}, text)

    async def fetch_json(self, url: str, auth: str) -> Reply:
        """A JSON document of the portal (a `users` command's list), read with the device's credentials."""
        return await self._json_call("GET", url, auth=self._auth_for(url, auth))

    async def fetch_text(self, url: str, auth: str) -> Reply:
        """An AutoP file: plain text, read with the device's credentials."""
        try:
            async with self.session.get(self.url(url), headers=_headers(self._auth_for(url, auth))) as resp:
                return Reply(resp.status, {}, await resp.text())
        except (TimeoutError, aiohttp.ClientError, UnicodeDecodeError) as exc:
            raise _failure(exc) from exc

    async def download(self, url: str, auth: str) -> tuple[Reply, str, int]:
        """Stream a firmware image, returning its sha256 and size without holding it in memory."""
        digest = hashlib.sha256()
        size = 0
        try:
            headers = _headers(self._auth_for(url, auth))
            async with self.session.get(self.url(url), headers=headers, timeout=DOWNLOAD_TIMEOUT) as resp:
                if resp.status != 200:
                    return Reply(resp.status, {}, (await resp.read())[:500].decode(errors="replace")), "", 0
                async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _failure(exc) from exc
        return Reply(200), digest.hexdigest(), size

    def _auth_for(self, url: str, auth: str) -> str | None:
        """Credentials go only to the portal itself, never to a third-party firmware mirror
        (aiohttp also drops them when the portal redirects to another origin)."""
        parts = urlsplit(self.url(url))
        return auth if (parts.scheme, parts.netloc) == self._origin else None
