"""The device LAN API client: the only code that dials a device, and only what the device proved.

The portal dials a device at the address its heartbeats come from (its own connection proves that
address; behind reverse proxies it is read through SMARTPLUS_TRUSTED_PROXIES), on the one LAN API
port of the deployment (`SMARTPLUS_DEVICE_LAN_PORT`), and only inside `SMARTPLUS_DEVICE_NETWORKS`.
Nothing a device writes in a request body chooses where the portal connects. The address is still
checked here, just before the connection, every time; redirects are never followed and no proxy
is used.

Requests follow the Akuvox LAN HTTP API (docs/device-api.md): JSON bodies sent as text/plain,
`{"target", "action", "data"}` requests, `{"retcode", "action", "message", "data"}` replies, and
the device's HTTP API authentication (`SMARTPLUS_DEVICE_LAN_AUTH`: none or allow-list, basic,
digest).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

from . import digest

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
MAX_BODY = 2 * 1024 * 1024
AUTH_MODES = ("none", "allowlist", "basic", "digest")
# What devices answer for an API their firmware lacks (HTTP 200, retcode -1 or 200).
UNSUPPORTED_MESSAGES = ("api unsupported", "no handlers for this request", "no hanlders", "unsupport")

# Never dialled, whatever the allowlist says: the cloud's metadata service and "this host".
ALWAYS_REFUSED = [
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("::/128"),
]


class DeviceUnreachable(Exception):
    """The device did not answer (timeout, refused, bad reply, retcode < 0): worth a retry."""


class NotAllowed(Exception):
    """The address is outside SMARTPLUS_DEVICE_NETWORKS: the portal will not dial it."""


class Unsupported(Exception):
    """The device answered, but its firmware has no such API: asking again cannot help."""


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n.strip(), strict=False) for n in settings.SMARTPLUS_DEVICE_NETWORKS if n]


def lan_port() -> int:
    """The one port the portal dials devices on: their LAN API (80 on real devices)."""
    return int(settings.SMARTPLUS_DEVICE_LAN_PORT)


def refusal(address: str | None) -> str:
    """Why the portal will not dial `address`, or "" when it may."""
    if not address:
        return gettext("The device has not reported its LAN address yet.")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return gettext("“%(address)s” is not an IP address.") % {"address": address}
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is the metadata service too
    if any(ip in net for net in ALWAYS_REFUSED):
        return gettext("%(ip)s is never dialled by the portal.") % {"ip": ip}
    networks = allowed_networks()
    if not networks:
        return gettext("The portal reaches no device network (SMARTPLUS_DEVICE_NETWORKS is empty).")
    if not any(ip.version == net.version and ip in net for net in networks):
        return gettext("The device's LAN address %(ip)s is outside the networks the portal may reach.") % {
            "ip": ip
        }
    return ""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in reversed(self.headers) if k.lower() == name.lower()), "")


def _credentials() -> tuple[str, str, str]:
    mode = str(settings.SMARTPLUS_DEVICE_LAN_AUTH or "none").lower()
    return mode, settings.SMARTPLUS_DEVICE_LAN_USERNAME, settings.SMARTPLUS_DEVICE_LAN_PASSWORD


def _send(address: str, port: int, method: str, path: str, body: bytes | None, headers: dict) -> Reply:
    conn = http.client.HTTPConnection(address, port, timeout=CONNECT_TIMEOUT)
    try:
        conn.connect()
        conn.sock.settimeout(READ_TIMEOUT)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            raise DeviceUnreachable(gettext("The device's reply is too large."))
        return Reply(response.status, response.getheaders(), data)
    except (OSError, http.client.HTTPException) as exc:
        raise DeviceUnreachable(
            gettext("The device at %(address)s:%(port)s did not answer (%(error)s).")
            % {"address": address, "port": port, "error": exc}
        ) from exc
    finally:
        conn.close()


def request(
    address: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict | None = None,
    authenticate: bool = True,
) -> Reply:
    """One HTTP request to a device's LAN API port, refused unless the address is allowed.

    With `authenticate`, the portal's device credentials go with it (Basic at once, Digest in
    answer to the device's challenge); the Remote Control relay passes the user's requests on
    without them.
    """
    reason = refusal(address)
    if reason:
        raise NotAllowed(reason)
    if not path.startswith("/"):
        raise ValueError("path must be absolute")
    port = lan_port()
    headers = dict(headers or {})
    mode, username, password = _credentials() if authenticate else ("none", "", "")
    if mode == "basic":
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    reply = _send(address, port, method, path, body, headers)
    if mode == "digest" and reply.status == 401:
        scheme, challenge = digest.parse(reply.header("WWW-Authenticate"))
        if scheme == "digest" and challenge.get("nonce"):
            headers["Authorization"] = digest.authorization(
                challenge, method=method, uri=path, username=username, password=password
            )
            reply = _send(address, port, method, path, body, headers)
    return reply


def envelope_data(reply: Reply, action: str) -> dict:
    """The `data` of a device's reply envelope; raises for anything but success."""
    if reply.status in (401, 403):
        raise DeviceUnreachable(
            f"The device refused the portal's credentials for {action} (HTTP {reply.status}); "
            "check SMARTPLUS_DEVICE_LAN_AUTH and the device's HTTP API settings."
        )
    try:
        envelope = json.loads(reply.body)
    except ValueError as exc:
        raise DeviceUnreachable(f"The device's reply to {action} is not JSON (HTTP {reply.status}).") from exc
    if not isinstance(envelope, dict) or "retcode" not in envelope:
        raise DeviceUnreachable(f"The device's reply to {action} is not an API reply.")
    message = str(envelope.get("message") or "")
    if any(marker in message.lower() for marker in UNSUPPORTED_MESSAGES):
        raise Unsupported(f"The device does not support {action}: {message}")
    retcode = envelope.get("retcode")
    # Success is retcode 0; some firmware answers 1 with "OK" to set and trig calls.
    if reply.status != 200 or not isinstance(retcode, int) or retcode < 0:
        raise DeviceUnreachable(f"The device refused {action}: {message or reply.status}")
    data = envelope.get("data")
    return data if isinstance(data, dict) else {}


def call(address: str, target: str, action: str, data: dict | None = None) -> dict:
    """`POST /api/<target>/<action>` with `{"target", "action", "data"}` as a text/plain JSON
    body, as Akuvox devices take it; returns the reply's data."""
    payload = json.dumps({"target": target, "action": action, "data": data or {}}).encode()
    reply = request(
        address, "POST", f"/api/{target}/{action}", body=payload, headers={"Content-Type": "text/plain"}
    )
    return envelope_data(reply, f"{target}/{action}")


def get(address: str, target: str, action: str) -> dict:
    """`GET /api/<target>/<action>` (the read-only calls: system/info, relay/status, …)."""
    return envelope_data(request(address, "GET", f"/api/{target}/{action}"), f"{target}/{action}")


def system_info(address: str) -> dict:
    """What the device says it is: `data.Status` of `GET /api/system/info` (MAC, Model,
    FirmwareVersion, HardwareVersion, …)."""
    status = get(address, "system", "info").get("Status")
    if not isinstance(status, dict):
        raise DeviceUnreachable("The device's system/info reply has no Status.")
    return status


def nudge(address: str) -> None:
    """Ask the device to heartbeat now. Akuvox firmware has no "contact the cloud now" call, so
    this is the portal's own extension (`POST /api/cloud/poll`, served by devices.simulator); a
    device without it answers "unsupported" and collects its commands at its next heartbeat."""
    call(address, "cloud", "poll")
