"""The device LAN API client: the only code that dials a device, and only inside the allowlist.

`SMARTPLUS_DEVICE_NETWORKS` lists the networks the portal may reach devices on (loopback in the
demo and the tests). A device reports its own LAN address, so the address is untrusted input:
it is checked here, just before the connection, every time; redirects are never followed and
no proxy is used.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
from dataclasses import dataclass

from django.conf import settings

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
MAX_BODY = 2 * 1024 * 1024

# Never dialled, whatever the allowlist says: the cloud's metadata service and "this host".
ALWAYS_REFUSED = [
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("::/128"),
]


class DeviceUnreachable(Exception):
    """The device did not answer (timeout, refused, bad reply): worth a retry."""


class NotAllowed(Exception):
    """The address is outside SMARTPLUS_DEVICE_NETWORKS: the portal will not dial it."""


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n.strip(), strict=False) for n in settings.SMARTPLUS_DEVICE_NETWORKS if n]


def refusal(address: str | None) -> str:
    """Why the portal will not dial `address`, or "" when it may."""
    if not address:
        return "The device has not reported its LAN address yet."
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"“{address}” is not an IP address."
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is the metadata service too
    if any(ip in net for net in ALWAYS_REFUSED):
        return f"{ip} is never dialled by the portal."
    networks = allowed_networks()
    if not networks:
        return "The portal reaches no device network (SMARTPLUS_DEVICE_NETWORKS is empty)."
    if not any(ip.version == net.version and ip in net for net in networks):
        return f"The device's LAN address {ip} is outside the networks the portal may reach."
    return ""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def request(
    address: str, port: int, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
) -> Reply:
    """One HTTP request to a device on its LAN, refused unless the address is allowed."""
    reason = refusal(address)
    if reason:
        raise NotAllowed(reason)
    if not path.startswith("/"):
        raise ValueError("path must be absolute")
    conn = http.client.HTTPConnection(address, port, timeout=CONNECT_TIMEOUT)
    try:
        conn.connect()
        conn.sock.settimeout(READ_TIMEOUT)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            raise DeviceUnreachable("The device's reply is too large.")
        return Reply(response.status, response.getheaders(), data)
    except (OSError, http.client.HTTPException) as exc:
        raise DeviceUnreachable(f"The device at {address}:{port} did not answer ({exc}).") from exc
    finally:
        conn.close()


def call(address: str, port: int, resource: str, action: str, data: dict | None = None) -> dict:
    """`POST /api/<resource>/<action>` and the envelope's data; retcode ≠ 0 is unreachable."""
    payload = json.dumps(data or {}).encode()
    reply = request(
        address,
        port,
        "POST",
        f"/api/{resource}/{action}",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    try:
        envelope = json.loads(reply.body)
    except ValueError as exc:
        raise DeviceUnreachable("The device's reply is not JSON.") from exc
    if reply.status != 200 or not isinstance(envelope, dict) or envelope.get("retcode") != 0:
        message = envelope.get("message") if isinstance(envelope, dict) else reply.status
        raise DeviceUnreachable(f"The device refused {action}: {message}")
    return envelope.get("data") or {}
